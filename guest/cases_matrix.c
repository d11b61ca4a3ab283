// SPDX-License-Identifier: GPL-2.0
/*
 * The scenario matrix, guest side. The host (lab/matrix.py) writes the cells
 * to run into /etc/sasscan/matrix.txt, one per line (grammar: docs/lab.md):
 *
 *   cell=ID pers=NAME kind=scan|delete|hotadd|writers|ioload|client|volume|state|
 *                           drvrescan
 *       req=C_T_L [topo=A,B,...] [set=attr=v;attr=v] [ch=C] [add=k=v,k=v]
 *       [opts=O_O] [prep=none|delete_all|delete_target|silent_remove|
 *                   del_lun_n|del_lun0|del_volumes] [full=1] [state=S]
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
 * Options that begin with "patched" run rescan-scsi-bus-patched.sh, the
 * script with this project's fixes (patches/sg3_utils), with the rest.
 *
 * kind=volume cells delete volumes (LUNs of the driver's channels >= 1) with
 * their sysfs delete attribute: @prep del_lun_n the last LUN > 0 of a target
 * holding several, del_lun0 LUN 0 of such a target, del_volumes every device
 * on channels >= 1; then the request. The record adds absent_lun_probes and
 * absent_cmds (commands to an address the driver has no device for): a scan
 * that brings the volumes back must not probe addresses that do not exist.
 * kind=state cells delete every device, set the host's driver_state to
 * @state (reset, discovery: the driver exposes nothing new), let the driver
 * list one more device (@add, mode=known), then write the request: only the
 * transport's channel-0 devices may come back (expected = the firmware's
 * channel-0 devices; anything else found is an extra device).
 *
 * Expected devices are those the modelled driver lists after the request
 * (vsas_listed_devices()): a user scan can only bring back what the driver
 * knows. A device the firmware has and the driver no longer lists (smartpqi
 * forgets a device whose scsi_device a user deletes, pqi_slave_destroy()) is
 * counted apart as unlisted_devices: recorded, not a failure of the scan.
 * kind=drvrescan cells delete volumes as kind=volume does, then write 1 to
 * the host's "rescan" attribute (the driver's own scan) instead of the scan
 * attribute; expected there: every device the firmware has.
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
	char opts[128], prep[24], state[16];
	int ch;
	bool full;
};

/* What one request cell carries from its preparation to its record. */
struct run {
	char name[32], prep[256], before[8192];
	int host, prep_rc;
	long long t0;
	struct ioload io_load;
	bool ioload;
	struct req r;
};

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

/* The '_'s of @c->opts as spaces, "%d" as the target @id the prep removed. */
static void client_opts(struct cell *c, int id, char *opts, size_t size)
{
	char *pct;

	for (pct = c->opts; *pct; pct++)	/* '_' stands for ' ' in cell lines */
		if (*pct == '_')
			*pct = ' ';
	pct = strstr(c->opts, "%d");
	if (pct)
		snprintf(opts, size, "%.*s%d%s", (int)(pct - c->opts), c->opts, id, pct + 2);
	else
		snprintf(opts, size, "%s", c->opts);
}

/* The device sets of a client cell: firmware, before, must stay, after, lsscsi. */
struct client_sets {
	char fw[8192], before[8192], must[8192], have[8192], ls[8192], listed[8192];
	int nfw, nlisted;
};

static void client_record(const struct cell *c, int host, const char *opts, const char *what,
			  int prep_rc, int rc, long long elapsed, const struct client_sets *s)
{
	bool patched = !strncmp(opts, "patched ", 8);
	char request[200];
	struct jrec r;

	snprintf(request, sizeof(request), "rescan-scsi-bus.sh %s%s",
		 patched ? "(patched) " : "", patched ? opts + 8 : opts);
	jrec_init(&r, "MATRIX");
	jrec_str(&r, "cell", c->id);
	jrec_str(&r, "pers", c->pers);
	jrec_str(&r, "kind", "client");
	jrec_str(&r, "request", request);
	jrec_str(&r, "prep", what);
	jrec_int(&r, "prep_rc", prep_rc);
	jrec_bool(&r, "unbounded", false);
	jrec_int(&r, "write_rc", rc);
	jrec_int(&r, "elapsed_ms", elapsed);
	jrec_int(&r, "expected_devices", count_words_in(s->must, "", false));
	jrec_int(&r, "found_devices", count_words_in(s->must, s->have, true));
	jrec_int(&r, "extra_devices", count_words_in(s->have, s->fw, false));
	jrec_int(&r, "firmware_devices", s->nfw);
	jrec_int(&r, "firmware_found", count_words_in(s->fw, s->have, true));
	jrec_int(&r, "unlisted_devices", count_words_in(s->fw, s->listed, false));
	jrec_int(&r, "full", c->full);
	jrec_int(&r, "lsscsi_agrees", !strcmp(s->have, s->ls));
	jrec_strn(&r, "expected", s->must, 300);
	jrec_strn(&r, "before", s->before, 300);
	jrec_strn(&r, "after", s->have, 300);
	jrec_strn(&r, "lsscsi", s->ls, 300);
	jrec_int(&r, "absent_probes", CTR("absent_probes"));
	jrec_int(&r, "absent_lun_probes", CTR("absent_lun_probes"));
	jrec_int(&r, "rphyless_target_allocs",
		 CTR("target_alloc_would_oops") + CTR("target_alloc_wild_read"));
	jrec_int(&r, "phy_resets", CTR("resets"));
	jrec_int(&r, "io_errors", CTR("io_failed_by_reset"));
	jrec_int(&r, "concurrent_scan_start_max", SCANS_AT_ONCE());
	jrec_int(&r, "cmds", CTR("cmds"));
	jrec_emit(&r);
}

/* A kind=client cell on host @host (created, settled); prints its record. */
static void run_client_cell(struct cell *c, const char *name, int host)
{
	static char out[16384];
	static struct client_sets s;
	struct req all = { .wild_ch = true, .wild_id = true, .wild_lun = true };
	char what[96], opts[160];
	long long t0, elapsed;
	int id, prep_rc, rc;

	prep_rc = client_prep(c, name, host, &id, what, sizeof(what));
	vsas_devcmd(name, "flush");
	client_opts(c, id, opts, sizeof(opts));
	host_device_string(host, s.before, sizeof(s.before));
	s.nfw = vsas_fw_devices(name, &all, s.fw, sizeof(s.fw));
	/* what must be there afterwards (full=1: set after the run) */
	snprintf(s.must, sizeof(s.must), "%s",
		 !strcmp(c->prep, "silent_remove") ? s.fw : s.before);
	vsas_reset_counters(host);
	t0 = now_ms();
	if (!strncmp(opts, "patched ", 8))
		rc = run_capture(out, sizeof(out), "rescan-scsi-bus-patched.sh --hosts=%d %s 2>&1",
				 host, opts + 8);
	else
		rc = run_capture(out, sizeof(out), "rescan-scsi-bus.sh --hosts=%d %s 2>&1", host,
				 opts);
	elapsed = now_ms() - t0;
	/* the script's adds and removals end on the host's event queue */
	vsas_devcmd(name, "flush");
	sleep_ms(300);
	host_device_string(host, s.have, sizeof(s.have));
	lsscsi_string(host, s.ls, sizeof(s.ls));
	/* "everything": what the driver lists (smartpqi forgets deleted devices) */
	s.nlisted = vsas_listed_devices(name, &all, s.listed, sizeof(s.listed));
	if (c->full)
		snprintf(s.must, sizeof(s.must), "%s", s.listed);
	if (rc)
		diag("rescan-scsi-bus.sh --hosts=%d %s: rc %d, said:\n%.2000s", host, opts, rc,
		     out);
	client_record(c, host, opts, what, prep_rc, rc, elapsed, &s);
}

/* Start a verified load on the first of @m's devices that has a disk. */
static void prepare_ioload(struct run *m)
{
	struct scsi_addr devs[64];
	char disk[32] = "";
	int n = host_devices(m->host, devs, 64), i, tries;

	for (i = 0; i < n && !disk[0]; i++)
		for (tries = 0; tries < 50 && !disk[0]; tries++) {
			device_disk(&devs[i], disk, sizeof(disk));
			if (!disk[0])
				sleep_ms(100);
		}
	m->ioload = disk[0] && !ioload_start(&m->io_load, disk, 0);
	m->prep_rc = m->ioload ? 0 : -ENODEV;
	snprintf(m->prep, sizeof(m->prep), "ioload on %s", disk[0] ? disk : "(no disk)");
	sleep_ms(300);
}

/*
 * kind=volume: delete volumes as @prep says (see the top of the file); 0 if
 * something was deleted. A "multi" target has a LUN > 0 on channel >= 1.
 */
static int delete_volumes(int host, const char *prep, char *what, size_t size)
{
	struct scsi_addr devs[256];
	char path[256];
	int n, i, pick = -1, rc = -ENOENT, j;

	n = host_devices(host, devs, 256);
	for (i = 0; i < n; i++) {
		if (devs[i].channel == 0)
			continue;
		if (!strcmp(prep, "del_volumes")) {
			snprintf(path, sizeof(path),
				 "/sys/class/scsi_device/%d:%u:%u:%llu/device/delete",
				 host, devs[i].channel, devs[i].id, devs[i].lun);
			rc = write_str(path, "1");
			if (rc)
				break;
			continue;
		}
		if (!strcmp(prep, "del_lun_n") && devs[i].lun > 0)
			pick = i;	/* the last one */
		if (!strcmp(prep, "del_lun0") && devs[i].lun == 0 && pick < 0)
			for (j = 0; j < n; j++)
				if (devs[j].channel == devs[i].channel &&
				    devs[j].id == devs[i].id && devs[j].lun > 0)
					pick = i;
	}
	if (!strcmp(prep, "del_volumes")) {
		snprintf(what, size, "delete every volume (ch >= 1)");
		return rc;
	}
	if (pick < 0) {
		snprintf(what, size, "%s: no such volume", prep);
		return -ENOENT;
	}
	snprintf(what, size, "%s: delete %u:%u:%llu", prep, devs[pick].channel, devs[pick].id,
		 devs[pick].lun);
	snprintf(path, sizeof(path), "/sys/class/scsi_device/%d:%u:%u:%llu/device/delete",
		 host, devs[pick].channel, devs[pick].id, devs[pick].lun);
	return write_str(path, "1");
}

/* kind=state: every device deleted, driver_state set, one device listed */
static void prepare_state(const struct cell *c, struct run *m)
{
	char cmd[160], *p;
	int rc;

	delete_all_devices(m->host);
	wait_devices(m->host, "", 5000);
	m->prep_rc = vsas_set(m->name, "driver_state", c->state);
	snprintf(cmd, sizeof(cmd), "add %s", c->add);
	for (p = cmd; *p; p++)
		if (*p == ',')
			*p = ' ';
	rc = c->add[0] ? vsas_devcmd(m->name, cmd) : 0;
	if (!m->prep_rc)
		m->prep_rc = rc;
	vsas_devcmd(m->name, "flush");
	snprintf(m->prep, sizeof(m->prep), "delete all; driver_state=%s; %s", c->state,
		 c->add[0] ? cmd : "");
}

/* The kind's preparation before the request (see the top of the file). */
static void prepare(const struct cell *c, struct run *m)
{
	char cmd[160], *p;

	if (!strcmp(c->kind, "scan") || !strcmp(c->kind, "writers")) {
		delete_all_devices(m->host);
		wait_devices(m->host, "", 5000);
	} else if (!strcmp(c->kind, "delete")) {
		m->prep_rc = delete_one_device(m->host, c->ch);
		snprintf(m->prep, sizeof(m->prep), "delete ch%d", c->ch);
	} else if (!strcmp(c->kind, "hotadd")) {
		snprintf(cmd, sizeof(cmd), "add %s", c->add);
		for (p = cmd; *p; p++)
			if (*p == ',')
				*p = ' ';
		m->prep_rc = vsas_devcmd(m->name, cmd);
		snprintf(m->prep, sizeof(m->prep), "%s", cmd);
		vsas_devcmd(m->name, "flush");
	} else if (!strcmp(c->kind, "ioload")) {
		prepare_ioload(m);
	} else if (!strcmp(c->kind, "volume") || !strcmp(c->kind, "drvrescan")) {
		m->prep_rc = delete_volumes(m->host, c->prep, m->prep, sizeof(m->prep));
		vsas_devcmd(m->name, "flush");
	} else if (!strcmp(c->kind, "state")) {
		prepare_state(c, m);
	}
}

/* The members every request record starts with. */
static void record_head(struct jrec *r, const struct cell *c, const struct run *m)
{
	jrec_init(r, "MATRIX");
	jrec_str(r, "cell", c->id);
	jrec_str(r, "pers", c->pers);
	jrec_str(r, "kind", c->kind);
	jrec_str(r, "request", c->req);
	jrec_str(r, "prep", m->prep);
}

/* The write has not returned: show a second writer blocked, print the record. */
static void record_unbounded(const struct cell *c, const struct run *m, pid_t w2,
			     const struct vsas_walk *walk)
{
	int host = m->host, fd2, hung_secs;
	struct jrec r;
	char state;

	if (w2 < 0)
		w2 = writer_start(host, "- - -", &fd2);
	hung_secs = (int)read_ll("/proc/sys/kernel/hung_task_timeout_secs");
	sleep_ms((unsigned int)(2 * hung_secs + 3) * 1000);
	state = task_state(w2);
	record_head(&r, c, m);
	jrec_bool(&r, "unbounded", true);
	jrec_int(&r, "elapsed_ms", now_ms() - m->t0);
	jrec_int(&r, "absent_probes", CTR("absent_probes"));
	jrec_double(&r, "probe_rate", walk->rate, 1);
	jrec_double(&r, "extrapolated_probes", walk->total, 0);
	jrec_double(&r, "extrapolated_hours",
		    walk->rate > 0 ? walk->total / walk->rate / 3600.0 : -1.0, 2);
	jrec_strn(&r, "second_writer_state", &state, 1);
	jrec_int(&r, "rphyless_target_allocs",
		 CTR("target_alloc_would_oops") + CTR("target_alloc_wild_read"));
	jrec_int(&r, "target_allocs_nonrphy", CTR("target_allocs_nonrphy"));
	jrec_int(&r, "phy_resets", CTR("resets"));
	jrec_int(&r, "io_errors", CTR("io_failed_by_reset"));
	jrec_int(&r, "concurrent_scan_start_max", SCANS_AT_ONCE());
	jrec_emit(&r);
}

/* The request returned: the measurements. */
static void record_bounded(const struct cell *c, struct run *m, const int rc[2],
			   long long elapsed, const long long io[3])
{
	static char expect[8192], have[8192], fw[8192], listed[8192];
	struct req ch0 = m->r;
	bool state = !strcmp(c->kind, "state"), drvrescan = !strcmp(c->kind, "drvrescan");
	int host = m->host, nexp;
	struct jrec r;

	/* kind=state: only the transport's rphys may come back */
	if (state && (ch0.wild_ch || ch0.ch == 0)) {
		ch0.wild_ch = false;
		ch0.ch = 0;
		ch0.rphys_only = true;
	} else if (state) {
		ch0.ch = ~0U;	/* nothing */
		ch0.wild_ch = false;
	}
	/* what the driver lists; the driver's own rescan: what the firmware has */
	if (drvrescan)
		nexp = vsas_fw_devices(m->name, &ch0, expect, sizeof(expect));
	else
		nexp = vsas_listed_devices(m->name, &ch0, expect, sizeof(expect));
	vsas_fw_devices(m->name, &m->r, fw, sizeof(fw));
	vsas_listed_devices(m->name, &m->r, listed, sizeof(listed));

	host_device_string(host, have, sizeof(have));
	record_head(&r, c, m);
	jrec_int(&r, "prep_rc", m->prep_rc);
	jrec_bool(&r, "unbounded", false);
	jrec_int(&r, "write_rc", rc[0]);
	jrec_int(&r, "write_rc2", rc[1]);
	jrec_int(&r, "elapsed_ms", elapsed);
	jrec_int(&r, "expected_devices", nexp);
	jrec_int(&r, "found_devices", count_words_in(expect, have, true));
	jrec_int(&r, "extra_devices", count_words_in(have, expect, false));
	/* the firmware has them, the driver does not list them (and so no scan finds them) */
	jrec_int(&r, "unlisted_devices", count_words_in(fw, listed, false));
	jrec_strn(&r, "expected", expect, 300);
	jrec_strn(&r, "before", m->before, 300);
	jrec_strn(&r, "after", have, 300);
	jrec_int(&r, "absent_probes", CTR("absent_probes"));
	jrec_int(&r, "rphyless_target_allocs",
		 CTR("target_alloc_would_oops") + CTR("target_alloc_wild_read"));
	jrec_int(&r, "target_allocs_nonrphy", CTR("target_allocs_nonrphy"));
	jrec_int(&r, "phy_resets", CTR("resets"));
	jrec_int(&r, "fw_resets", CTR("fw_resets"));
	jrec_int(&r, "link_resets", CTR("link_resets"));
	jrec_int(&r, "io_failed_by_reset", CTR("io_failed_by_reset"));
	jrec_int(&r, "io_ops", io[0]);
	jrec_int(&r, "io_errors", io[1] + CTR("io_failed_by_reset"));
	jrec_int(&r, "corrupt_blocks", io[2]);
	jrec_int(&r, "concurrent_scan_start_max", SCANS_AT_ONCE());
	jrec_int(&r, "scan_start_calls", CTR("scan_start"));
	jrec_int(&r, "port_enables", CTR("port_enables"));
	jrec_int(&r, "scan_stuck", CTR("scan_stuck"));
	jrec_int(&r, "cmds", CTR("cmds"));
	if (state || drvrescan || !strcmp(c->kind, "volume")) {
		jrec_int(&r, "absent_lun_probes", CTR("absent_lun_probes"));
		jrec_int(&r, "absent_cmds", CTR("absent_cmds"));
		jrec_int(&r, "report_luns_refused", CTR("report_luns_refused"));
		jrec_int(&r, "user_scan_reports", CTR("user_scan_reports"));
		jrec_int(&r, "user_scan_busy", CTR("user_scan_busy"));
		jrec_int(&r, "user_scan_entries", CTR("user_scan_entries"));
		jrec_int(&r, "rescans", CTR("rescans"));
	}
	jrec_emit(&r);
}

/* Write the request (twice at once for writers); false if it is unbounded. */
static bool request(const struct cell *c, struct run *m)
{
	long long io[3] = { 0, 0, 0 }, elapsed;
	int rc[2] = { 0, 0 }, fd, fd2;
	struct vsas_walk walk;
	pid_t w, w2 = -1;

	m->t0 = now_ms();
	if (!strcmp(c->kind, "drvrescan")) {
		/* the driver's own scan: synchronous (smartpqi pqi_scan_start()) */
		char path[96];

		snprintf(path, sizeof(path), "/sys/class/scsi_host/host%d/rescan", m->host);
		rc[0] = write_str(path, "1");
		elapsed = now_ms() - m->t0;
		vsas_devcmd(m->name, "flush");
		sleep_ms(300);
		record_bounded(c, m, rc, elapsed, io);
		return true;
	}
	w = writer_start(m->host, c->req, &fd);
	if (!strcmp(c->kind, "writers"))
		w2 = writer_start(m->host, c->req, &fd2);
	if (!writer_wait(w, SCAN_PATIENCE_MS) &&
	    !vsas_wait_walk(m->name, m->host, m->r.wild_ch, w, &walk)) {
		record_unbounded(c, m, w2, &walk);
		return false;
	}
	elapsed = now_ms() - m->t0;
	rc[0] = writer_rc(fd, NULL, NULL);
	if (w2 > 0) {
		writer_wait(w2, 600000);
		rc[1] = writer_rc(fd2, NULL, NULL);
	}
	vsas_devcmd(m->name, "flush");
	sleep_ms(300);
	if (m->ioload)
		ioload_stop(&m->io_load, io);
	record_bounded(c, m, rc, elapsed, io);
	return true;
}

/* Run one cell; returns false if the boot must end (unbounded scan). */
static bool run_cell(struct cell *c, int idx)
{
	static struct run m;
	struct jrec r;

	memset(&m, 0, sizeof(m));
	snprintf(m.name, sizeof(m.name), "m%d", idx);
	kmsg("cell begin %s\n", c->id);
	m.host = vsas_create(m.name, c->pers, NULL, c->topo[0] ? c->topo : NULL);
	if (m.host < 0) {
		jrec_init(&r, "MATRIX");
		jrec_str(&r, "cell", c->id);
		jrec_str(&r, "error", "host creation failed");
		jrec_emit(&r);
		kmsg("cell end %s\n", c->id);
		return true;
	}
	vsas_apply_settings(m.name, c->set);
	vsas_devcmd(m.name, "flush");
	sleep_ms(200);
	if (!strcmp(c->kind, "client")) {
		run_client_cell(c, m.name, m.host);
	} else {
		vsas_resolve_req(m.name, c->req, sizeof(c->req));
		req_parse(c->req, &m.r);
		prepare(c, &m);
		host_device_string(m.host, m.before, sizeof(m.before));
		vsas_reset_counters(m.host);
		if (!request(c, &m)) {
			kmsg("cell end %s\n", c->id);
			return false;
		}
	}
	kmsg("cell end %s\n", c->id);
	if (vsas_destroy(m.name))
		diag("cell %s: host %s could not be removed", c->id, m.name);
	return true;
}

static int matrix_idx;

static bool known(const char *word, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(word, *list))
			return true;
	return false;
}

/* One line of MATRIX_FILE: 1 go on, 0 end the boot, -1 bad line. */
static int matrix_line(const char *line)
{
	static const char *const kinds[] = { "scan", "delete", "hotadd", "writers", "ioload",
					     "client", "volume", "state", "drvrescan", NULL };
	static const char *const preps[] = { "", "none", "delete_all", "delete_target",
					     "silent_remove", "del_lun_n", "del_lun0",
					     "del_volumes", NULL };
	struct cell c = { .ch = -1 };
	const struct cell_key keys[] = {
		CELL_STR_KEY("cell", c.id, true), CELL_STR_KEY("pers", c.pers, true),
		CELL_STR_KEY("kind", c.kind, true), CELL_STR_KEY("req", c.req, false),
		CELL_STR_KEY("topo", c.topo, false), CELL_STR_KEY("set", c.set, false),
		CELL_STR_KEY("add", c.add, false), CELL_STR_KEY("opts", c.opts, false),
		CELL_STR_KEY("prep", c.prep, false), CELL_BOOL_KEY("full", &c.full, false),
		CELL_INT_KEY("ch", &c.ch, 0, 0, false),
		CELL_STR_KEY("state", c.state, false),
	};
	char err[160];

	if (cell_parse(line, keys, sizeof(keys) / sizeof(keys[0]), 0, err, sizeof(err)) ||
	    (!known(c.kind, kinds) && snprintf(err, sizeof(err), "unknown kind=%s", c.kind)) ||
	    (!known(c.prep, preps) && snprintf(err, sizeof(err), "unknown prep=%s", c.prep))) {
		diag("matrix: %s: %.200s", err, line);
		return -1;
	}
	if (!run_cell(&c, matrix_idx++))
		cells_end_boot("MATRIX", c.id);	/* a scan is stuck for good */
	return 1;
}

GUEST_CASE_T(matrix, "run the scenario matrix cells listed in " MATRIX_FILE, 0)
{
	return cells_run(MATRIX_FILE, matrix_line);
}
