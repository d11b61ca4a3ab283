// SPDX-License-Identifier: GPL-2.0
/*
 * The scenario matrix, guest side. The host (lab/matrix.py) writes the cells
 * to run into /etc/sasscan/matrix.txt, one per line:
 *
 *   cell=ID pers=NAME kind=scan|delete|hotadd|writers|ioload req=C_T_L
 *       [topo=A,B,...] [set=attr=v;attr=v] [ch=C] [add=k=v,k=v]
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
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
	int ch;
};

struct req {
	unsigned int ch, id;
	unsigned long long lun;	/* ~0ULL: wildcard */
	bool wild_ch, wild_id, wild_lun;
};

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

#define emit(...) diag_record("MATRIX", __VA_ARGS__)

#define CTR(n) vsas_counter(host, n)
/*
 * Driver scans at once: scan_start/scan_finished calls running together, or
 * whole scan_start..scan_finished sequences overlapping (a fast scan_start
 * may not overlap its twin, but the two scans still run side by side).
 */
#define SCANS_AT_ONCE() (CTR("scan_calls_concurrent_max") > CTR("scans_active_max") ? \
			 CTR("scan_calls_concurrent_max") : CTR("scans_active_max"))

/* The last slow scan's probe rate and the size of the id walk it implies. */
static struct vsas_walk walk;

/* A scan still running after SCAN_PATIENCE_MS: bounded (and over) or not. */
static bool slow_but_bounded(const struct cell *c, const char *name, int host,
			     pid_t w, const struct req *r)
{
	diag("cell %s: still scanning", c->id);
	return vsas_wait_walk(name, host, r->wild_ch, w, &walk);
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
	w = scan_writer_start(host, c->req, &fd);
	w2 = -1;
	if (!strcmp(c->kind, "writers"))
		w2 = scan_writer_start(host, c->req, &fd2);
	if (!wait_child(w, SCAN_PATIENCE_MS) && !slow_but_bounded(c, name, host, w, &r)) {
		/* unbounded: show the second writer blocked, end the boot */
		if (w2 < 0)
			w2 = scan_writer_start(host, "- - -", &fd2);
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
	rc = scan_writer_rc(fd, NULL, NULL);
	if (w2 > 0) {
		wait_child(w2, 600000);
		rc2 = scan_writer_rc(fd2, NULL, NULL);
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
	kmsg("cell end %s\n", c->id);
	if (vsas_destroy(name))
		diag("cell %s: host %s could not be removed", c->id, name);
	return true;
}

/* One line of MATRIX_FILE; false if the boot must end. */
static bool matrix_line(const char *line, int idx)
{
	struct cell c;
	char chs[16];

	memset(&c, 0, sizeof(c));
	line_field(line, "cell", c.id, sizeof(c.id));
	line_field(line, "pers", c.pers, sizeof(c.pers));
	line_field(line, "kind", c.kind, sizeof(c.kind));
	line_field(line, "req", c.req, sizeof(c.req));
	line_field(line, "topo", c.topo, sizeof(c.topo));
	line_field(line, "set", c.set, sizeof(c.set));
	line_field(line, "add", c.add, sizeof(c.add));
	line_field(line, "ch", chs, sizeof(chs));
	c.ch = chs[0] ? atoi(chs) : -1;
	return run_cell(&c, idx);
}

GUEST_CASE_T(matrix, "run the scenario matrix cells listed in " MATRIX_FILE, 0)
{
	return vsas_run_cells(MATRIX_FILE, "MATRIX", matrix_line);
}
