// SPDX-License-Identifier: GPL-2.0
/* Guest helpers for the vsas cases (see vsas_util.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <scsi/sg.h>
#include <sys/ioctl.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vsas_util.h"

int vsas_load(void)
{
	if (path_exists(VSAS_CFS))
		return 0;
	if (run("modprobe vsas")) {
		diag("modprobe vsas failed");
		return -1;
	}
	if (!path_exists(VSAS_CFS)) {
		diag("no %s after modprobe vsas", VSAS_CFS);
		return -1;
	}
	return 0;
}

int vsas_set(const char *name, const char *attr, const char *value)
{
	char path[256];

	snprintf(path, sizeof(path), VSAS_CFS "/%s/%s", name, attr);
	return write_str(path, value);
}

int vsas_devcmd(const char *name, const char *cmd)
{
	return vsas_set(name, "devices", cmd);
}

int vsas_create(const char *name, const char *pers, const char *const *params,
		const char *topology)
{
	char path[256], val[64];
	int rc, i;

	if (vsas_load())
		return -1;
	snprintf(path, sizeof(path), VSAS_CFS "/%s", name);
	if (mkdir(path, 0755)) {
		diag("mkdir %s: %s", path, strerror(errno));
		return -1;
	}
	rc = vsas_set(name, "personality", pers);
	if (rc) {
		diag("personality %s: %s", pers, strerror(-rc));
		return -1;
	}
	for (i = 0; params && params[i]; i++) {
		char attr[64];
		const char *eq = strchr(params[i], '=');

		if (!eq || eq - params[i] >= (int)sizeof(attr))
			return -1;
		memcpy(attr, params[i], eq - params[i]);
		attr[eq - params[i]] = '\0';
		rc = vsas_set(name, attr, eq + 1);
		if (rc) {
			diag("%s=%s: %s", attr, eq + 1, strerror(-rc));
			return -1;
		}
	}
	if (topology) {
		rc = vsas_set(name, "topology", topology);
		if (rc) {
			diag("topology '%s': %s", topology, strerror(-rc));
			return -1;
		}
	}
	rc = vsas_set(name, "enable", "1");
	if (rc) {
		diag("enable: %s", strerror(-rc));
		return -1;
	}
	snprintf(path, sizeof(path), VSAS_CFS "/%s/host_no", name);
	if (read_str(path, val, sizeof(val)) <= 0)
		return -1;
	return atoi(val);
}

int vsas_destroy(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), VSAS_CFS "/%s", name);
	if (!path_exists(path))
		return 0;
	if (rmdir(path)) {
		diag("rmdir %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int vsas_counters(int host, const char *const *names, long long *out, int n)
{
	char path[128], line[128];
	int i, found = 0;
	FILE *f;

	for (i = 0; i < n; i++)
		out[i] = -1;
	snprintf(path, sizeof(path), VSAS_DBG "/host%d/counters", host);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f) && found < n) {
		for (i = 0; i < n; i++) {
			size_t l = strlen(names[i]);

			if (!strncmp(line, names[i], l) && line[l] == ' ') {
				out[i] = strtoll(line + l + 1, NULL, 10);
				found++;
				break;
			}
		}
	}
	fclose(f);
	return found;
}

long long vsas_counter(int host, const char *counter)
{
	long long v;

	vsas_counters(host, &counter, &v, 1);
	return v;
}

long long vsas_opcodes(int host, long long opc[256])
{
	char path[128], line[128];
	long long total = 0, v;
	unsigned int o;
	FILE *f;

	memset(opc, 0, 256 * sizeof(*opc));
	snprintf(path, sizeof(path), VSAS_DBG "/host%d/counters", host);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "opcode_0x%x %lld", &o, &v) == 2 && o < 256) {
			opc[o] = v;
			total += v;
		}
	fclose(f);
	return total;
}

void vsas_sample_walk(const char *name, int host, bool all_ch, unsigned int ms,
		      struct vsas_walk *w)
{
	long long p0, c0, t0, dt;
	char path[128];
	double mc, mi;

	p0 = vsas_counter(host, "absent_probes");
	c0 = vsas_counter(host, "cmds");
	t0 = now_ms();
	sleep_ms(ms);
	w->probes = vsas_counter(host, "absent_probes");
	dt = now_ms() - t0;
	w->rate = (double)(w->probes - p0) * 1000.0 / (double)dt;
	w->cmd_rate = (double)(vsas_counter(host, "cmds") - c0) * 1000.0 / (double)dt;
	snprintf(path, sizeof(path), VSAS_CFS "/%s/max_channel", name);
	mc = (double)read_ll(path);
	snprintf(path, sizeof(path), VSAS_CFS "/%s/max_id", name);
	mi = (double)read_ll(path);
	w->total = (all_ch ? mc : 1) * mi;
}

bool vsas_wait_walk(const char *name, int host, bool all_ch, pid_t w,
		    struct vsas_walk *walk)
{
	double left;

	vsas_sample_walk(name, host, all_ch, 3000, walk);
	left = walk->rate > 0 ? (walk->total - (double)walk->probes) / walk->rate : 1e12;
	diag("%.1f probes/s, %.3g to go (%.0f s)", walk->rate,
	     walk->total - (double)walk->probes, left);
	return left <= 300 && writer_wait(w, (unsigned int)(left + 60) * 1000);
}

int vsas_reset_counters(int host)
{
	char path[128];

	snprintf(path, sizeof(path), VSAS_DBG "/host%d/counters", host);
	return write_str(path, "reset");
}

int vsas_call_scan(int host, const char *req)
{
	char path[128];

	snprintf(path, sizeof(path), VSAS_DBG "/host%d/call_scan", host);
	return write_str(path, req);
}

int vsas_pdev_path(int host, char *buf, size_t size)
{
	char path[128], real[PATH_MAX], *slash;

	snprintf(path, sizeof(path), "/sys/class/scsi_host/host%d/device", host);
	if (!realpath(path, real))
		return -1;
	/* .../vsas/vsasN/hostH -> .../vsas/vsasN */
	slash = strrchr(real, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	snprintf(buf, size, "%s", real);
	return 0;
}

bool vsas_expect_devices(int host, const char *want, unsigned int ms)
{
	char have[4096];

	if (wait_devices(host, want, ms))
		return true;
	host_device_string(host, have, sizeof(have));
	diag("host%d devices '%s', want '%s'", host, have, want);
	return false;
}

static void trim(char *s)
{
	size_t n = strlen(s);

	while (n && s[n - 1] == ' ')
		s[--n] = '\0';
}

bool vsas_check_inquiry(int host, unsigned int ch, unsigned int id,
			unsigned long long lun, const char *vendor,
			const char *model)
{
	char path[256], v[64], m[64];

	snprintf(path, sizeof(path), "/sys/class/scsi_device/%d:%u:%u:%llu/device/vendor",
		 host, ch, id, lun);
	read_str(path, v, sizeof(v));
	snprintf(path, sizeof(path), "/sys/class/scsi_device/%d:%u:%u:%llu/device/model",
		 host, ch, id, lun);
	read_str(path, m, sizeof(m));
	trim(v);
	trim(m);
	if (strcmp(v, vendor) || strcmp(m, model)) {
		diag("%d:%u:%u:%llu is '%s' '%s', want '%s' '%s'", host, ch, id,
		     lun, v, m, vendor, model);
		return false;
	}
	return true;
}

bool vsas_under_rphy(int host, unsigned int ch, unsigned int id,
		     unsigned long long lun)
{
	char path[256], real[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/class/scsi_device/%d:%u:%u:%llu/device",
		 host, ch, id, lun);
	if (!realpath(path, real))
		return false;
	return !!strstr(real, "/end_device-");
}

void vsas_disk(int host, unsigned int ch, unsigned int id,
	       unsigned long long lun, char *buf, size_t size)
{
	struct scsi_addr a = { .host = host, .channel = ch, .id = id, .lun = lun };
	int i;

	/*
	 * sd probes asynchronously: the node can exist before sd has read the
	 * capacity, and a device that goes away then leaves a 0-sector disk
	 * that every read "succeeds" on without a command.
	 */
	for (i = 0; i < 50; i++) {
		device_disk(&a, buf, size);
		if (buf[0]) {
			char dev[64], sz[64];

			snprintf(dev, sizeof(dev), "/dev/%s", buf);
			snprintf(sz, sizeof(sz), "/sys/block/%s/size", buf);
			if (path_exists(dev) && read_ll(sz) > 0)
				return;
		}
		sleep_ms(100);
	}
}

bool vsas_roundtrip(const char *disk, unsigned int kb, unsigned int seek_kb)
{
	int rc;

	/* a newline after "&&" continues the list, as a space does */
	rc = run("dd if=/dev/urandom of=/tmp/vsas_pat bs=1024 count=%u 2>/dev/null &&\n"
		 "dd if=/tmp/vsas_pat of=/dev/%s bs=1024 seek=%u conv=fsync 2>/dev/null &&\n"
		 "sync && echo 3 > /proc/sys/vm/drop_caches &&\n"
		 "blockdev --flushbufs /dev/%s 2>/dev/null; "
		 "dd if=/dev/%s of=/tmp/vsas_back bs=1024 skip=%u count=%u 2>/dev/null &&\n"
		 "cmp /tmp/vsas_pat /tmp/vsas_back; "
		 "r=$?; rm -f /tmp/vsas_pat /tmp/vsas_back; exit $r",
		 kb, disk, seek_kb, disk, disk, seek_kb, kb);
	if (rc)
		diag("round trip on %s (%u KiB at %u KiB) failed: %d", disk, kb,
		     seek_kb, rc);
	return rc == 0;
}

int vsas_read_disk(const char *disk, unsigned int kb, unsigned int skip_kb)
{
	return run("echo 3 > /proc/sys/vm/drop_caches; "
		   "dd if=/dev/%s of=/dev/null bs=1024 skip=%u count=%u 2>/dev/null",
		   disk, skip_kb, kb);
}

/*
 * READ(10) of the disk's first block, sent with SG_IO: it goes straight to
 * the host's queuecommand, past the page cache, so it tells whether the
 * device behind the disk still answers. 0 if the command succeeded.
 */
int vsas_sg_read(const char *disk)
{
	unsigned char cdb[10] = { 0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0 };
	unsigned char sense[32], buf[4096];
	struct sg_io_hdr io;
	char path[64];
	int fd, rc;

	snprintf(path, sizeof(path), "/dev/%s", disk);
	fd = open(path, O_RDONLY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	memset(&io, 0, sizeof(io));
	io.interface_id = 'S';
	io.dxfer_direction = SG_DXFER_FROM_DEV;
	io.cmd_len = sizeof(cdb);
	io.cmdp = cdb;
	io.dxferp = buf;
	io.dxfer_len = sizeof(buf);
	io.sbp = sense;
	io.mx_sb_len = sizeof(sense);
	io.timeout = 10000;
	rc = ioctl(fd, SG_IO, &io) ? -errno : 0;
	close(fd);
	if (rc)
		return rc;
	return io.status || io.host_status || io.driver_status ? 1 : 0;
}

/*
 * Make the first read of h:ch:id:0 time out (2 s timeout, 6 s service time),
 * then check SCSI EH aborted it and the retry succeeded.
 */
int vsas_eh_case(const char *name, const char *pers, const char *topology,
		 const char *want, unsigned int ch, unsigned int id)
{
	static const char *const params[] = { "num_phys=4", NULL };
	char disk[32];
	int host = vsas_create(name, pers, params, topology);

	if (host < 0)
		return CASE_FAIL;
	if (!vsas_expect_devices(host, want, 20000)) {
		vsas_destroy(name);
		return CASE_FAIL;
	}
	vsas_disk(host, ch, id, 0, disk, sizeof(disk));
	CHECK(disk[0], "no disk");
	vsas_reset_counters(host);
	/* 2 s command timeout, 6 s service time: the first read times out */
	run("echo 2 > /sys/class/scsi_device/%d:%u:%u:0/device/timeout", host, ch, id);
	CHECK(vsas_set(name, "io_delay_ms", "6000") == 0, "io_delay");
	run("(echo 3 > /proc/sys/vm/drop_caches;"
	    " dd if=/dev/%s of=/dev/null bs=4k count=1 skip=555 2>/dev/null;"
	    " echo $? > /tmp/ehdd) >/dev/null 2>&1 &", disk);
	sleep_ms(500);
	CHECK(vsas_set(name, "io_delay_ms", "0") == 0, "io_delay 0");
	sleep_ms(8000);
	CHECK(vsas_counter(host, "eh_aborts") >= 1, "eh_aborts %lld",
	      vsas_counter(host, "eh_aborts"));
	CHECK(read_ll("/tmp/ehdd") == 0, "read after EH failed: %lld", read_ll("/tmp/ehdd"));
	CHECK(vsas_counter(host, "inflight") == 0, "inflight %lld", vsas_counter(host, "inflight"));
	diag("eh_aborts %lld tmfs %lld eh_device_resets %lld", vsas_counter(host, "eh_aborts"),
	     vsas_counter(host, "tmfs"), vsas_counter(host, "eh_device_resets"));
	CHECK(vsas_roundtrip(disk, 64, 0), "disk unusable after EH");
	CHECK(vsas_destroy(name) == 0, "destroy");
	return CASE_RESULT();
}

/* ---- cells (matrix, reliability, bench) ---- */

void req_parse(const char *s, struct req *r)
{
	char a[24], b[24], c[24];

	memset(r, 0, sizeof(*r));
	if (sscanf(s, "%23s %23s %23s", a, b, c) != 3) {
		r->wild_ch = true;
		r->wild_id = true;
		r->wild_lun = true;
		return;
	}
	r->wild_ch = !strcmp(a, "-");
	r->wild_id = !strcmp(b, "-");
	r->wild_lun = !strcmp(c, "-");
	r->ch = r->wild_ch ? 0 : (unsigned int)strtoul(a, NULL, 0);
	r->id = r->wild_id ? 0 : (unsigned int)strtoul(b, NULL, 0);
	r->lun = r->wild_lun ? 0 : strtoull(c, NULL, 0);
}

bool req_selects(const struct req *r, unsigned int ch, unsigned int id,
		 unsigned long long lun)
{
	return (r->wild_ch || r->ch == ch) && (r->wild_id || r->id == id) &&
	       (r->wild_lun || r->lun == lun);
}

static int vsas_devices_in(const char *name, const struct req *r, bool listed, char *buf,
			   size_t size);

int vsas_fw_devices(const char *name, const struct req *r, char *buf, size_t size)
{
	return vsas_devices_in(name, r, false, buf, size);
}

int vsas_listed_devices(const char *name, const struct req *r, char *buf, size_t size)
{
	return vsas_devices_in(name, r, true, buf, size);
}

/* @listed: only what the driver's list has too (not state=fw-only) */
static int vsas_devices_in(const char *name, const struct req *r, bool listed, char *buf,
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
		const char *at = strstr(line, "ch="), *first = strstr(line, " lun=");
		unsigned int ch, luns, l, lun0 = 0;
		int id;

		if (!at || strstr(line, "state=gone") ||
		    (listed && strstr(line, "state=fw-only")) ||
		    sscanf(at, "ch=%u id=%d luns=%u", &ch, &id, &luns) != 3 || id < 0)
			continue;
		/* vsas lists a channel-0 device that is not an rphy with phy=-1 */
		if (r->rphys_only && !ch && strstr(line, " phy=-1 "))
			continue;
		/* a volume's LUNs start at lun= (older vsas: always 0) */
		if (first && sscanf(first, " lun=%u", &lun0) != 1)
			lun0 = 0;
		for (l = lun0; l < lun0 + luns && n < 512; l++)
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

void vsas_apply_settings(const char *name, char *set)
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

int delete_one_device(int host, int ch)
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

/*
 * The request as the host wrote it: '_' for spaces, "over" for
 * "<max_channel + 1> - -", "@id" for the target id of a channel-0 device
 * (the transport assigns those at run time).
 */
void vsas_resolve_req(const char *name, char *req, size_t size)
{
	char path[256], list[8192], tmp[64], *p, *at;
	int id = -1;

	for (p = req; *p; p++)
		if (*p == '_')
			*p = ' ';
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

int cells_run(const char *file, int (*fn)(const char *line))
{
	char line[4096];
	int lineno = 0, bad = 0, r = 1;
	FILE *f;

	f = fopen(file, "r");
	if (!f) {
		diag("no %s", file);
		return CASE_FAIL;
	}
	if (vsas_load()) {
		fclose(f);
		return CASE_FAIL;
	}
	while (r && fgets(line, sizeof(line), f)) {
		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			diag("%s:%d: line longer than %zu bytes: skipped", file, lineno,
			     sizeof(line) - 2);
			while (fgets(line, sizeof(line), f) && !strchr(line, '\n'))
				;
			bad++;
			continue;
		}
		if (line[strspn(line, " \t\r\n")] == '\0' || line[0] == '#')
			continue;
		r = fn(line);
		if (r < 0) {
			diag("%s:%d: bad cell line: skipped", file, lineno);
			bad++;
		}
	}
	fclose(f);
	if (bad)
		diag("%s: %d bad line(s)", file, bad);
	return bad ? CASE_FAIL : CASE_PASS;
}

void cells_end_boot(const char *tag, const char *id)
{
	diag("%s-STOP after %s", tag, id);
	fflush(NULL);
	sync();
	sleep_ms(500);
	reboot(RB_AUTOBOOT);
	_exit(1);
}

int vsas_rescan_forgotten(const char *name, int host)
{
	static char fw[16384], listed[16384];
	struct req all;
	char path[96];
	int nfw, nlisted;

	req_parse("- - -", &all);
	nfw = vsas_fw_devices(name, &all, fw, sizeof(fw));
	nlisted = vsas_listed_devices(name, &all, listed, sizeof(listed));
	snprintf(path, sizeof(path), "/sys/class/scsi_host/host%d/rescan", host);
	if (nfw == nlisted || access(path, W_OK))
		return 0;
	write_str(path, "1");
	vsas_devcmd(name, "flush");
	return 1;
}
