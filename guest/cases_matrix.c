// SPDX-License-Identifier: GPL-2.0
/*
 * The scenario matrix, guest side. The host (lab/matrix.py) writes the cells
 * to run into /etc/sasscan/matrix.txt, one per line:
 *
 *   cell=ID pers=NAME kind=scan|delete|hotadd|writers|ioload|client req=C_T_L
 *       [topo=A,B,...] [set=attr=v;attr=v] [ch=C] [add=k=v,k=v]
 *       [opts=O_O] [prep=none|delete_all|delete_target|silent_remove] [full=1]
 *
 * For every cell the case creates a fresh vsas host, prepares it (deletes
 * devices, hot-adds one, starts I/O), resets the counters, writes the request
 * to the host's scan attribute, and prints one line
 *
 *   # MATRIX {"cell": ..., "write_rc": ..., "found_devices": ..., ...}
 *
 * with the measurements; verdicts are computed on the host. Kernel-log
 * markers "sasscan: cell begin|end ID" let the host attribute splats.
 * A write that has not returned after a few seconds is an unbounded scan:
 * the case samples the probe rate, lets a second writer block behind it long
 * enough for the hung-task detector to report it, prints the record and ends
 * the boot (the stuck scan cannot be stopped); the host boots again for the
 * remaining cells.
 *
 * kind=client cells run what administrators run instead of the write:
 * sg3_utils' rescan-scsi-bus.sh --hosts=<this host> with options @opts ('_'
 * for spaces, "%d" for the id of the target @prep removed), after @prep:
 * delete every device, delete the devices of one target on channel @ch, or
 * make the firmware lose that target silently. The record adds what lsscsi
 * lists. Every device present before must stay (silent_remove: every device
 * the firmware still has) and nothing the firmware lacks may appear; a
 * request for everything (full=1) must also find every firmware device.
 * What a narrower option finds beyond that is recorded, not judged.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "guest.h"
#include "vsas_util.h"

#define MATRIX_FILE "/etc/sasscan/matrix.txt"
#define SCAN_PATIENCE_MS 8000	/* a scan still running after this is unbounded */
#define NO_ID (~0U)

struct cell {
	char id[64], pers[32], kind[16], req[64], topo[256], set[256], add[128];
	char opts[128], prep[24];
	int ch;
	bool full;
};

struct req {
	unsigned int ch, id;
	unsigned long long lun;	/* ~0ULL: wildcard */
	bool wild_ch, wild_id, wild_lun;
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void field(const char *line, const char *key, char *out, size_t size)
{
	char pat[32];
	const char *p;
	size_t n;

	out[0] = '\0';
	snprintf(pat, sizeof(pat), " %s=", key);
	p = strstr(line, pat);
	if (!p && !strncmp(line, pat + 1, strlen(pat + 1)))
		p = line - 1;
	if (!p)
		return;
	p += strlen(pat);
	n = strcspn(p, " \n");
	if (n >= size)
		n = size - 1;
	memcpy(out, p, n);
	out[n] = '\0';
}

static void underscores_to_spaces(char *s)
{
	for (; *s; s++)
		if (*s == '_')
			*s = ' ';
}

static void parse_req(const char *s, struct req *r)
{
	char a[24], b[24], c[24];

	memset(r, 0, sizeof(*r));
	if (sscanf(s, "%23s %23s %23s", a, b, c) != 3) {
		r->wild_ch = r->wild_id = r->wild_lun = true;
		return;
	}
	r->wild_ch = !strcmp(a, "-");
	r->wild_id = !strcmp(b, "-");
	r->wild_lun = !strcmp(c, "-");
	r->ch = r->wild_ch ? 0 : (unsigned int)strtoul(a, NULL, 0);
	r->id = r->wild_id ? 0 : (unsigned int)strtoul(b, NULL, 0);
	r->lun = r->wild_lun ? 0 : strtoull(c, NULL, 0);
}

static bool req_selects(const struct req *r, unsigned int ch, unsigned int id,
			unsigned long long lun)
{
	return (r->wild_ch || r->ch == ch) && (r->wild_id || r->id == id) &&
	       (r->wild_lun || r->lun == lun);
}

/* Expected (c:t:l) set: what the emulated firmware has, selected by @r. */
static int expected_devices(const char *name, const struct req *r, char *buf,
			    size_t size)
{
	char path[256], *list, *line, *save;
	struct scsi_addr devs[512];
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), VSAS_CFS "/%s/devices", name);
	list = calloc(1, 65536);
	f = fopen(path, "r");
	if (!f || !list) {
		free(list);
		if (f)
			fclose(f);
		return -1;
	}
	fread(list, 1, 65535, f);
	fclose(f);
	for (line = strtok_r(list, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		unsigned int ch, luns, l;
		int id;

		if (strstr(line, "state=gone"))
			continue;
		if (sscanf(strstr(line, "ch=") ?: "", "ch=%u id=%d luns=%u", &ch, &id,
			   &luns) != 3 || id < 0)
			continue;
		for (l = 0; l < luns && n < 512; l++)
			if (req_selects(r, ch, (unsigned int)id, l)) {
				devs[n].channel = ch;
				devs[n].id = (unsigned int)id;
				devs[n].lun = l;
				n++;
			}
	}
	free(list);
	addr_string(devs, n, buf, size);
	return n;
}

/* Count the words of @a that are (or are not) in @b. */
static int count_in(const char *a, const char *b, bool in)
{
	char copy[8192], *w, *save, key[64];
	char padded[8200];
	int n = 0;

	snprintf(copy, sizeof(copy), "%s", a);
	snprintf(padded, sizeof(padded), " %s ", b);
	for (w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		snprintf(key, sizeof(key), " %s ", w);
		if ((strstr(padded, key) != NULL) == in)
			n++;
	}
	return n;
}

static pid_t start_writer(int host, const char *req, int *rc_fd)
{
	int pfd[2];
	pid_t pid;

	if (pipe(pfd))
		return -1;
	pid = fork();
	if (pid == 0) {
		int rc = scan_host(host, req);

		if (write(pfd[1], &rc, sizeof(rc)) != sizeof(rc))
			_exit(2);
		_exit(0);
	}
	close(pfd[1]);
	*rc_fd = pfd[0];
	return pid;
}

static bool wait_writer(pid_t pid, unsigned int ms)
{
	long long end = now_ms() + ms;

	while (now_ms() < end) {
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return true;
		sleep_ms(20);
	}
	return false;
}

static int writer_rc(int fd)
{
	int rc = -9999;

	if (read(fd, &rc, sizeof(rc)) != sizeof(rc))
		rc = -9999;
	close(fd);
	return rc;
}

static char task_state(pid_t pid)
{
	char path[64], buf[256], *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (read_str(path, buf, sizeof(buf)) <= 0)
		return '?';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : '?';
}

/*
 * Verified I/O load: a child writes numbered 4 KiB blocks in a 4 MiB window
 * and reads each back, counting failed I/O and corrupt blocks, until it is
 * told to stop; it reports "io_ops io_errors corrupt" through a pipe.
 */
struct ioload {
	pid_t pid;
	int fd;
};

static void ioload_child(const char *disk, int out)
{
	static unsigned char wbuf[4096] __attribute__((aligned(4096)));
	static unsigned char rbuf[4096] __attribute__((aligned(4096)));
	long long ops = 0, errs = 0, corrupt = 0, res[3];
	unsigned int blk = 0, i;
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/dev/%s", disk);
	fd = open(path, O_RDWR | O_DIRECT | O_SYNC);
	if (fd < 0)
		errs++;
	while (fd >= 0 && getppid() != 1) {
		off_t off = (off_t)(blk % 1024) * 4096;

		for (i = 0; i < sizeof(wbuf); i += 8)
			memcpy(wbuf + i, &(long long){ ops * 131 + i }, 8);
		if (pwrite(fd, wbuf, sizeof(wbuf), off) != (ssize_t)sizeof(wbuf)) {
			errs++;
		} else if (pread(fd, rbuf, sizeof(rbuf), off) != (ssize_t)sizeof(rbuf)) {
			errs++;
		} else if (memcmp(wbuf, rbuf, sizeof(wbuf))) {
			corrupt++;
		}
		ops++;
		blk++;
		if (access("/tmp/ioload.stop", F_OK) == 0)
			break;
	}
	res[0] = ops;
	res[1] = errs;
	res[2] = corrupt;
	if (write(out, res, sizeof(res)) != sizeof(res))
		_exit(2);
	_exit(0);
}

static int ioload_start(struct ioload *io, const char *disk)
{
	int pfd[2];

	unlink("/tmp/ioload.stop");
	if (pipe(pfd))
		return -1;
	io->pid = fork();
	if (io->pid == 0) {
		close(pfd[0]);
		ioload_child(disk, pfd[1]);
	}
	close(pfd[1]);
	io->fd = pfd[0];
	return io->pid > 0 ? 0 : -1;
}

static void ioload_stop(struct ioload *io, long long res[3])
{
	int fd = open("/tmp/ioload.stop", O_CREAT | O_WRONLY, 0600);

	if (fd >= 0)
		close(fd);
	res[0] = res[1] = res[2] = -1;
	if (read(io->fd, res, 3 * sizeof(long long)) != 3 * (ssize_t)sizeof(long long))
		res[1] = -1;
	close(io->fd);
	waitpid(io->pid, NULL, 0);
}

/*
 * The request as the host wrote it: '_' for spaces, "over" for
 * "<max_channel + 1> - -", "@id" for the target id of a channel-0 device
 * (the transport assigns those at run time).
 */
static void resolve_req(const char *name, char *req, size_t size)
{
	char path[256], list[8192], tmp[64], *p, *at;
	int id = -1;

	underscores_to_spaces(req);
	if (!strcmp(req, "over")) {
		snprintf(path, sizeof(path), VSAS_CFS "/%s/max_channel", name);
		snprintf(req, size, "%lld - -", read_ll(path) + 1);
		return;
	}
	at = strstr(req, "@id");
	if (!at)
		return;
	snprintf(path, sizeof(path), VSAS_CFS "/%s/devices", name);
	if (read_str(path, list, sizeof(list)) > 0)
		for (p = strstr(list, " ch=0 id="); p && id < 0; p = strstr(p + 1, " ch=0 id="))
			id = atoi(p + strlen(" ch=0 id="));
	*at = '\0';
	snprintf(tmp, sizeof(tmp), "%.24s%d%.24s", req, id, at + 3);
	snprintf(req, size, "%.*s", (int)size - 1, tmp);
}

static void apply_settings(const char *name, char *set)
{
	char *kv, *save;

	for (kv = strtok_r(set, ";", &save); kv; kv = strtok_r(NULL, ";", &save)) {
		char *eq = strchr(kv, '=');

		if (!eq)
			continue;
		*eq = '\0';
		if (vsas_set(name, kv, eq + 1))
			diag("cell: %s=%s rejected", kv, eq + 1);
	}
}

/* Delete the first scsi_device on channel @ch (any if @ch < 0); 0 if one was. */
static int delete_one(int host, int ch)
{
	struct scsi_addr devs[256];
	char path[256];
	int n, i;

	n = host_devices(host, devs, 256);
	for (i = 0; i < n; i++) {
		if (ch >= 0 && devs[i].channel != (unsigned int)ch)
			continue;
		snprintf(path, sizeof(path),
			 "/sys/class/scsi_device/%d:%u:%u:%llu/device/delete",
			 host, devs[i].channel, devs[i].id, devs[i].lun);
		return write_str(path, "1");
	}
	return -ENOENT;
}

static void emit(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void emit(const char *fmt, ...)
{
	char buf[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	diag("MATRIX %s", buf);
}

#define CTR(n) vsas_counter(host, n)
/*
 * Driver scans at once: scan_start/scan_finished calls running together, or
 * whole scan_start..scan_finished sequences overlapping (a fast scan_start
 * may not overlap its twin, but the two scans still run side by side).
 */
#define SCANS_AT_ONCE() (CTR("scan_calls_concurrent_max") > CTR("scans_active_max") ? \
			 CTR("scan_calls_concurrent_max") : CTR("scans_active_max"))

/* The last slow scan's probe rate and the size of the id walk it implies. */
static struct {
	double rate, total;
} walk;

/*
 * A scan is still running after SCAN_PATIENCE_MS. Sample its probe rate and
 * extrapolate the generic id walk (max_id ids on each channel it covers);
 * if the rest would take at most 5 minutes the scan is bounded, only slow
 * under emulation: wait for it. Returns true if it finished.
 */
static bool slow_but_bounded(const struct cell *c, const char *name, int host,
			     pid_t w, const struct req *r)
{
	long long p0, p1, t1, mc, mi;
	char path[128];
	double left;

	p0 = CTR("absent_probes");
	t1 = now_ms();
	sleep_ms(3000);
	p1 = CTR("absent_probes");
	walk.rate = (p1 - p0) * 1000.0 / (double)(now_ms() - t1);
	snprintf(path, sizeof(path), VSAS_CFS "/%s/max_channel", name);
	mc = read_ll(path);
	snprintf(path, sizeof(path), VSAS_CFS "/%s/max_id", name);
	mi = read_ll(path);
	walk.total = (double)(r->wild_ch ? mc : 1) * (double)mi;
	left = walk.rate > 0 ? (walk.total - (double)p1) / walk.rate : 1e12;
	diag("cell %s: still scanning, %.1f probes/s, %.3g to go (%.0f s)", c->id,
	     walk.rate, walk.total - (double)p1, left);
	return left <= 300 && wait_writer(w, (unsigned int)(left + 60) * 1000);
}

/* The host's devices as lsscsi lists them ("[h:c:t:l]  disk ..." lines). */
static int lsscsi_string(int host, char *buf, size_t size)
{
	static char out[65536];
	static struct scsi_addr devs[512];
	unsigned int h, c, i;
	unsigned long long lun;
	char *line, *save;
	int rc, n = 0;

	rc = run_capture(out, sizeof(out), "lsscsi %d:*:*:* 2>&1", host);
	for (line = strtok_r(out, "\n", &save); line && n < 512;
	     line = strtok_r(NULL, "\n", &save))
		if (sscanf(line, "[%u:%u:%u:%llu]", &h, &c, &i, &lun) == 4 &&
		    (int)h == host) {
			devs[n].channel = c;
			devs[n].id = i;
			devs[n].lun = lun;
			n++;
		}
	addr_string(devs, n, buf, size);
	return rc;
}

/* The id of the last LUN-0 device on channel @ch, or -1. */
static int last_target(int host, int ch)
{
	struct scsi_addr devs[256];
	int n, i;

	n = host_devices(host, devs, 256);
	for (i = n - 1; i >= 0; i--)
		if ((int)devs[i].channel == ch && devs[i].lun == 0)
			return (int)devs[i].id;
	return -1;
}

/* Delete every scsi_device of target (@ch, @id); 0 if all deletes worked. */
static int delete_target(int host, int ch, int id)
{
	struct scsi_addr devs[256];
	char path[256];
	int n, i, rc = -ENOENT;

	n = host_devices(host, devs, 256);
	for (i = 0; i < n; i++) {
		if ((int)devs[i].channel != ch || (int)devs[i].id != id)
			continue;
		snprintf(path, sizeof(path),
			 "/sys/class/scsi_device/%d:%u:%u:%llu/device/delete",
			 host, devs[i].channel, devs[i].id, devs[i].lun);
		rc = write_str(path, "1");
		if (rc)
			break;
	}
	return rc;
}

/*
 * Prepare a client cell (see the top of the file); returns the prep's rc and
 * describes it in @what. @id gets the target that was removed (or -1).
 */
static int client_prep(const struct cell *c, const char *name, int host, int *id,
		       char *what, size_t size)
{
	char cmd[96];

	*id = -1;
	snprintf(what, size, "%s", c->prep);
	if (!strcmp(c->prep, "delete_all")) {
		delete_all_devices(host);
		return wait_devices(host, "", 5000) ? 0 : -EBUSY;
	}
	if (!strcmp(c->prep, "none"))
		return 0;
	*id = last_target(host, c->ch);
	if (*id < 0)
		return -ENOENT;
	snprintf(what, size, "%s ch%d id%d", c->prep, c->ch, *id);
	if (!strcmp(c->prep, "delete_target"))
		return delete_target(host, c->ch, *id);
	snprintf(cmd, sizeof(cmd), "remove ch=%d id=%d mode=silent", c->ch, *id);
	return vsas_devcmd(name, cmd);
}

/* A kind=client cell on host @host (created, settled); prints its record. */
static void run_client_cell(struct cell *c, const char *name, int host)
{
	static char out[16384];
	char fw[8192], before[8192], must[8192], have[8192], ls[8192];
	char what[96], opts[160], *pct;
	struct req all = { .wild_ch = true, .wild_id = true, .wild_lun = true };
	long long t0, elapsed;
	int id, prep_rc, rc, nfw;

	prep_rc = client_prep(c, name, host, &id, what, sizeof(what));
	vsas_devcmd(name, "flush");
	underscores_to_spaces(c->opts);
	pct = strstr(c->opts, "%d");
	if (pct)
		snprintf(opts, sizeof(opts), "%.*s%d%s", (int)(pct - c->opts), c->opts, id, pct + 2);
	else
		snprintf(opts, sizeof(opts), "%s", c->opts);
	host_device_string(host, before, sizeof(before));
	nfw = expected_devices(name, &all, fw, sizeof(fw));
	/* what must be there afterwards */
	snprintf(must, sizeof(must), "%s",
		 c->full || !strcmp(c->prep, "silent_remove") ? fw : before);
	vsas_reset_counters(host);
	t0 = now_ms();
	rc = run_capture(out, sizeof(out), "rescan-scsi-bus.sh --hosts=%d %s 2>&1", host, opts);
	elapsed = now_ms() - t0;
	/* the script's adds and removals end on the host's event queue */
	vsas_devcmd(name, "flush");
	sleep_ms(300);
	host_device_string(host, have, sizeof(have));
	lsscsi_string(host, ls, sizeof(ls));
	if (rc)
		diag("rescan-scsi-bus.sh --hosts=%d %s: rc %d, said:\n%.2000s", host, opts, rc, out);
	emit("{\"cell\": \"%s\", \"pers\": \"%s\", \"kind\": \"client\", "
	     "\"request\": \"rescan-scsi-bus.sh %s\", \"prep\": \"%s\", \"prep_rc\": %d, "
	     "\"unbounded\": false, \"write_rc\": %d, \"elapsed_ms\": %lld, "
	     "\"expected_devices\": %d, \"found_devices\": %d, \"extra_devices\": %d, "
	     "\"firmware_devices\": %d, \"firmware_found\": %d, \"full\": %d, "
	     "\"lsscsi_agrees\": %d, \"expected\": \"%.300s\", \"before\": \"%.300s\", "
	     "\"after\": \"%.300s\", \"lsscsi\": \"%.300s\", \"absent_probes\": %lld, "
	     "\"absent_lun_probes\": %lld, \"rphyless_target_allocs\": %lld, \"phy_resets\": %lld, \"io_errors\": %lld, "
	     "\"concurrent_scan_start_max\": %lld, \"cmds\": %lld}",
	     c->id, c->pers, opts, what, prep_rc, rc, elapsed,
	     count_in(must, "", false), count_in(must, have, true), count_in(have, fw, false),
	     nfw, count_in(fw, have, true), c->full, !strcmp(have, ls), must, before, have, ls,
	     CTR("absent_probes"), CTR("absent_lun_probes"),
	     CTR("target_alloc_would_oops") + CTR("target_alloc_wild_read"),
	     CTR("resets"), CTR("io_failed_by_reset"), SCANS_AT_ONCE(), CTR("cmds"));
}

/* Run one cell; returns false if the boot must end (unbounded scan). */
static bool run_cell(struct cell *c, int idx)
{
	char name[32], expect[8192], have[8192], before[8192], prep[256] = "";
	long long t0, elapsed, io[3] = { 0, 0, 0 };
	int host, rc, rc2 = 0, fd, fd2, hung_secs, prep_rc = 0;
	struct ioload io_load;
	bool ioload = false;
	struct req r;
	pid_t w, w2;

	snprintf(name, sizeof(name), "m%d", idx);
	kmsg("cell begin %s\n", c->id);
	host = vsas_create(name, c->pers, NULL, c->topo[0] ? c->topo : NULL);
	if (host < 0) {
		emit("{\"cell\": \"%s\", \"error\": \"host creation failed\"}", c->id);
		kmsg("cell end %s\n", c->id);
		return true;
	}
	apply_settings(name, c->set);
	vsas_devcmd(name, "flush");
	sleep_ms(200);
	if (!strcmp(c->kind, "client")) {
		run_client_cell(c, name, host);
		goto done;
	}
	resolve_req(name, c->req, sizeof(c->req));
	parse_req(c->req, &r);

	/* prepare */
	if (!strcmp(c->kind, "scan") || !strcmp(c->kind, "writers")) {
		delete_all_devices(host);
		wait_devices(host, "", 5000);
	} else if (!strcmp(c->kind, "delete")) {
		prep_rc = delete_one(host, c->ch);
		snprintf(prep, sizeof(prep), "delete ch%d", c->ch);
	} else if (!strcmp(c->kind, "hotadd")) {
		char cmd[160];

		snprintf(cmd, sizeof(cmd), "add %s", c->add);
		for (char *p = cmd; *p; p++)
			if (*p == ',')
				*p = ' ';
		prep_rc = vsas_devcmd(name, cmd);
		snprintf(prep, sizeof(prep), "%s", cmd);
		vsas_devcmd(name, "flush");
	} else if (!strcmp(c->kind, "ioload")) {
		struct scsi_addr devs[64];
		char disk[32] = "";
		int n = host_devices(host, devs, 64), i;

		for (i = 0; i < n && !disk[0]; i++)
			for (int tries = 0; tries < 50 && !disk[0]; tries++) {
				device_disk(&devs[i], disk, sizeof(disk));
				if (!disk[0])
					sleep_ms(100);
			}
		ioload = disk[0] && !ioload_start(&io_load, disk);
		prep_rc = ioload ? 0 : -ENODEV;
		snprintf(prep, sizeof(prep), "ioload on %s", disk[0] ? disk : "(no disk)");
		sleep_ms(300);
	}
	host_device_string(host, before, sizeof(before));
	vsas_reset_counters(host);

	/* the request */
	t0 = now_ms();
	w = start_writer(host, c->req, &fd);
	w2 = -1;
	if (!strcmp(c->kind, "writers"))
		w2 = start_writer(host, c->req, &fd2);
	if (!wait_writer(w, SCAN_PATIENCE_MS) && !slow_but_bounded(c, name, host, w, &r)) {
		/* unbounded: show the second writer blocked, end the boot */
		if (w2 < 0)
			w2 = start_writer(host, "- - -", &fd2);
		hung_secs = (int)read_ll("/proc/sys/kernel/hung_task_timeout_secs");
		sleep_ms((unsigned int)(2 * hung_secs + 3) * 1000);
		emit("{\"cell\": \"%s\", \"pers\": \"%s\", \"kind\": \"%s\", \"request\": \"%s\", "
		     "\"prep\": \"%s\", \"unbounded\": true, \"elapsed_ms\": %lld, "
		     "\"absent_probes\": %lld, \"probe_rate\": %.1f, \"extrapolated_probes\": %.0f, "
		     "\"extrapolated_hours\": %.2f, \"second_writer_state\": \"%c\", "
		     "\"rphyless_target_allocs\": %lld, \"target_allocs_nonrphy\": %lld, "
		     "\"phy_resets\": %lld, \"io_errors\": %lld, \"concurrent_scan_start_max\": %lld}",
		     c->id, c->pers, c->kind, c->req, prep, now_ms() - t0, CTR("absent_probes"),
		     walk.rate, walk.total, walk.rate > 0 ? walk.total / walk.rate / 3600.0 : -1.0,
		     task_state(w2),
		     CTR("target_alloc_would_oops") + CTR("target_alloc_wild_read"),
		     CTR("target_allocs_nonrphy"), CTR("resets"), CTR("io_failed_by_reset"),
		     SCANS_AT_ONCE());
		kmsg("cell end %s\n", c->id);
		return false;
	}
	elapsed = now_ms() - t0;
	rc = writer_rc(fd);
	if (w2 > 0) {
		wait_writer(w2, 600000);
		rc2 = writer_rc(fd2);
	}
	vsas_devcmd(name, "flush");
	sleep_ms(300);
	if (ioload)
		ioload_stop(&io_load, io);

	/* measure */
	{
		int nexp = expected_devices(name, &r, expect, sizeof(expect));

		host_device_string(host, have, sizeof(have));
		emit("{\"cell\": \"%s\", \"pers\": \"%s\", \"kind\": \"%s\", \"request\": \"%s\", "
		     "\"prep\": \"%s\", \"prep_rc\": %d, \"unbounded\": false, "
		     "\"write_rc\": %d, \"write_rc2\": %d, "
		     "\"elapsed_ms\": %lld, \"expected_devices\": %d, \"found_devices\": %d, "
		     "\"extra_devices\": %d, \"expected\": \"%.300s\", \"before\": \"%.300s\", "
		     "\"after\": \"%.300s\", "
		     "\"absent_probes\": %lld, \"rphyless_target_allocs\": %lld, "
		     "\"target_allocs_nonrphy\": %lld, \"phy_resets\": %lld, \"fw_resets\": %lld, "
		     "\"link_resets\": %lld, \"io_failed_by_reset\": %lld, \"io_ops\": %lld, "
		     "\"io_errors\": %lld, \"corrupt_blocks\": %lld, "
		     "\"concurrent_scan_start_max\": %lld, \"scan_start_calls\": %lld, "
		     "\"port_enables\": %lld, \"scan_stuck\": %lld, \"cmds\": %lld}",
		     c->id, c->pers, c->kind, c->req, prep, prep_rc, rc, rc2, elapsed, nexp,
		     count_in(expect, have, true), count_in(have, expect, false),
		     expect, before, have,
		     CTR("absent_probes"),
		     CTR("target_alloc_would_oops") + CTR("target_alloc_wild_read"),
		     CTR("target_allocs_nonrphy"), CTR("resets"), CTR("fw_resets"),
		     CTR("link_resets"), CTR("io_failed_by_reset"), io[0],
		     io[1] + CTR("io_failed_by_reset"), io[2],
		     SCANS_AT_ONCE(), CTR("scan_start"),
		     CTR("port_enables"), CTR("scan_stuck"), CTR("cmds"));
	}
done:
	kmsg("cell end %s\n", c->id);
	if (vsas_destroy(name))
		diag("cell %s: host %s could not be removed", c->id, name);
	return true;
}

GUEST_CASE_T(matrix, "run the scenario matrix cells listed in " MATRIX_FILE, 0)
{
	char line[1024];
	int idx = 0;
	FILE *f;

	f = fopen(MATRIX_FILE, "r");
	if (!f) {
		diag("no %s", MATRIX_FILE);
		return CASE_FAIL;
	}
	if (vsas_load())
		return CASE_FAIL;
	while (fgets(line, sizeof(line), f)) {
		struct cell c;
		char chs[16];

		if (line[0] == '#' || line[0] == '\n')
			continue;
		memset(&c, 0, sizeof(c));
		field(line, "cell", c.id, sizeof(c.id));
		field(line, "pers", c.pers, sizeof(c.pers));
		field(line, "kind", c.kind, sizeof(c.kind));
		field(line, "req", c.req, sizeof(c.req));
		field(line, "topo", c.topo, sizeof(c.topo));
		field(line, "set", c.set, sizeof(c.set));
		field(line, "add", c.add, sizeof(c.add));
		field(line, "opts", c.opts, sizeof(c.opts));
		field(line, "prep", c.prep, sizeof(c.prep));
		field(line, "full", chs, sizeof(chs));
		c.full = chs[0] == '1';
		field(line, "ch", chs, sizeof(chs));
		c.ch = chs[0] ? atoi(chs) : -1;
		if (!run_cell(&c, idx++)) {
			/* a scan is stuck for good: end the boot now */
			fclose(f);
			diag("MATRIX-STOP after %s", c.id);
			fflush(NULL);
			sync();
			sleep_ms(500);
			reboot(RB_AUTOBOOT);
		}
	}
	fclose(f);
	return CASE_PASS;
}
