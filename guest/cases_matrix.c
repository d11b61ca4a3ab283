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
	for (pct = c->opts; *pct; pct++)	/* '_' stands for ' ' in cell lines */
		if (*pct == '_')
			*pct = ' ';
	pct = strstr(c->opts, "%d");
	if (pct)
		snprintf(opts, sizeof(opts), "%.*s%d%s", (int)(pct - c->opts), c->opts, id, pct + 2);
	else
		snprintf(opts, sizeof(opts), "%s", c->opts);
	host_device_string(host, before, sizeof(before));
	nfw = vsas_fw_devices(name, &all, fw, sizeof(fw));
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
	     count_words_in(must, "", false), count_words_in(must, have, true),
	     count_words_in(have, fw, false),
	     nfw, count_words_in(fw, have, true), c->full, !strcmp(have, ls), must, before, have, ls,
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
	struct vsas_walk walk;
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
	vsas_apply_settings(name, c->set);
	vsas_devcmd(name, "flush");
	sleep_ms(200);
	if (!strcmp(c->kind, "client")) {
		run_client_cell(c, name, host);
		goto done;
	}
	vsas_resolve_req(name, c->req, sizeof(c->req));
	req_parse(c->req, &r);

	/* prepare */
	if (!strcmp(c->kind, "scan") || !strcmp(c->kind, "writers")) {
		delete_all_devices(host);
		wait_devices(host, "", 5000);
	} else if (!strcmp(c->kind, "delete")) {
		prep_rc = delete_one_device(host, c->ch);
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
		ioload = disk[0] && !ioload_start(&io_load, disk, 0);
		prep_rc = ioload ? 0 : -ENODEV;
		snprintf(prep, sizeof(prep), "ioload on %s", disk[0] ? disk : "(no disk)");
		sleep_ms(300);
	}
	host_device_string(host, before, sizeof(before));
	vsas_reset_counters(host);

	/* the request */
	t0 = now_ms();
	w = writer_start(host, c->req, &fd);
	w2 = -1;
	if (!strcmp(c->kind, "writers"))
		w2 = writer_start(host, c->req, &fd2);
	if (!writer_wait(w, SCAN_PATIENCE_MS) &&
	    !vsas_wait_walk(name, host, r.wild_ch, w, &walk)) {
		/* unbounded: show the second writer blocked, end the boot */
		if (w2 < 0)
			w2 = writer_start(host, "- - -", &fd2);
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
	rc = writer_rc(fd, NULL, NULL);
	if (w2 > 0) {
		writer_wait(w2, 600000);
		rc2 = writer_rc(fd2, NULL, NULL);
	}
	vsas_devcmd(name, "flush");
	sleep_ms(300);
	if (ioload)
		ioload_stop(&io_load, io);

	/* measure */
	{
		int nexp = vsas_fw_devices(name, &r, expect, sizeof(expect));

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
		     count_words_in(expect, have, true), count_words_in(have, expect, false),
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

static int matrix_idx;

static bool matrix_line(const char *line)
{
	struct cell c;
	char chs[16];

	memset(&c, 0, sizeof(c));
	cell_field(line, "cell", c.id, sizeof(c.id));
	cell_field(line, "pers", c.pers, sizeof(c.pers));
	cell_field(line, "kind", c.kind, sizeof(c.kind));
	cell_field(line, "req", c.req, sizeof(c.req));
	cell_field(line, "topo", c.topo, sizeof(c.topo));
	cell_field(line, "set", c.set, sizeof(c.set));
	cell_field(line, "add", c.add, sizeof(c.add));
	cell_field(line, "opts", c.opts, sizeof(c.opts));
	cell_field(line, "prep", c.prep, sizeof(c.prep));
	cell_field(line, "full", chs, sizeof(chs));
	c.full = chs[0] == '1';
	cell_field(line, "ch", chs, sizeof(chs));
	c.ch = chs[0] ? atoi(chs) : -1;
	if (!run_cell(&c, matrix_idx++))
		cells_end_boot("MATRIX", c.id);	/* a scan is stuck for good */
	return true;
}

GUEST_CASE_T(matrix, "run the scenario matrix cells listed in " MATRIX_FILE, 0)
{
	return cells_run(MATRIX_FILE, matrix_line);
}
