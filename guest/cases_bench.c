// SPDX-License-Identifier: GPL-2.0
/*
 * The rescan benchmark, guest side (docs/bench.md). The host (lab/bench.py)
 * writes the cells into /etc/sasscan/bench.txt, one per line (grammar:
 * docs/lab.md):
 *
 *   cell=ID pers=NAME topo=A,B,... devs=N runs=R1,R2,... reps=N kreps=N k=N
 *       [set=attr=v;attr=v]
 *
 * runs: "def" (the personality's max_id), a number (max_id set to it), or
 * "knew" (k devices deleted from the midlayer, then the rescan finds them).
 * For every cell the case creates one vsas host with N devices and waits
 * until all are present, then per run does reps wildcard rescans (`- - -`),
 * each with the counters reset before it, and prints one line per rescan
 *
 *   # BENCH {"cell": ..., "run": ..., "us": ..., "opc": {"0x12": n, ...}, ...}
 *
 * sd is kept from binding (scsi bus drivers_autoprobe = 0), so the commands
 * counted are the midlayer's scan commands only. A rescan still running
 * after SCAN_PATIENCE_MS is sampled (vsas_wait_walk()): a walk that ends
 * within minutes is waited for; otherwise one "unbounded" record with the
 * probe rate is printed and the boot ended (the scan holds scan_mutex for
 * good); the host boots again for the remaining runs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guest.h"
#include "vsas_util.h"

#define BENCH_FILE "/etc/sasscan/bench.txt"
#define SCAN_PATIENCE_MS 10000	/* a rescan still running is sampled */
#define AUTOPROBE "/sys/bus/scsi/drivers_autoprobe"
#define PRINTK "/proc/sys/kernel/printk"

/* TSC cycles per second, calibrated against CLOCK_MONOTONIC (0: none) */
static double tsc_hz;

struct bench_cell {
	char id[96], pers[32], topo[256], set[128], runs[128], name[16];
	int devs, reps, kreps, k, host;
};

/* The non-zero counts of @opc as the object "opc". */
static void opcodes_json(struct jrec *r, const long long opc[256])
{
	char key[8];
	unsigned int i;

	jrec_begin(r, "opc", '{');
	for (i = 0; i < 256; i++)
		if (opc[i]) {
			snprintf(key, sizeof(key), "0x%02x", i);
			jrec_int(r, key, opc[i]);
		}
	jrec_end(r);
}

/* A record's first members: cell, run (NULL: none), rep (< 0: none). */
static void record_head(struct jrec *r, const struct bench_cell *c, const char *run, int rep)
{
	jrec_init(r, "BENCH");
	jrec_str(r, "cell", c->id);
	if (run)
		jrec_str(r, "run", run);
	if (rep >= 0)
		jrec_int(r, "rep", rep);
}

/* Host @c's max_id (a number in the records). */
static long long host_max_id(const struct bench_cell *c)
{
	char path[128];

	snprintf(path, sizeof(path), VSAS_CFS "/%s/max_id", c->name);
	return read_ll(path);
}

/*
 * Delete @k devices spread over the sorted device list (every n/k-th), so
 * the new ones are on every channel and target the topology uses.
 */
static int delete_spread(int host, int k)
{
	static struct scsi_addr devs[MAX_DEVS];
	int n = host_devices(host, devs, MAX_DEVS), i, bad = 0;
	char path[128];

	for (i = 0; i < k && i < n; i++) {
		const struct scsi_addr *a = &devs[(long long)i * n / k];

		snprintf(path, sizeof(path), "/sys/class/scsi_device/%d:%u:%u:%llu/device/delete",
			 host, a->channel, a->id, a->lun);
		if (write_str(path, "1"))
			bad++;
	}
	return bad ? -EIO : 0;
}

/*
 * One timed wildcard rescan with counters reset before it. Returns its
 * duration in us, or -1 if it is unbounded (the record says so; the caller
 * ends the boot).
 */
static void record_unbounded(const struct bench_cell *c, const char *run, int rep,
			     long long maxid, const struct vsas_walk *walk, int before)
{
	struct jrec r;

	record_head(&r, c, run, rep);
	jrec_int(&r, "max_id", maxid);
	jrec_bool(&r, "unbounded", true);
	jrec_double(&r, "probe_rate", walk->rate, 1);
	jrec_double(&r, "cmd_rate", walk->cmd_rate, 1);
	jrec_int(&r, "absent_probes", walk->probes);
	jrec_double(&r, "extrapolated_probes", walk->total, 0);
	jrec_double(&r, "extrapolated_s", walk->rate > 0 ? walk->total / walk->rate : -1.0, 0);
	jrec_int(&r, "devices", before);
	jrec_emit(&r);
}

/*
 * The LUs of the devices the driver lists (smartpqi forgets the deleted
 * ones), from vsas' device list: -1 if unreadable.
 */
static int bench_listed(const struct bench_cell *c)
{
	char path[128], line[512];
	unsigned int luns;
	const char *at;
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), VSAS_CFS "/%s/devices", c->name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		at = strstr(line, " luns=");
		if (at && (strstr(line, "state=known") || strstr(line, "state=exposed")) &&
		    sscanf(at, " luns=%u", &luns) == 1)
			n += (int)luns;
	}
	fclose(f);
	return n;
}

static long long rescan(struct bench_cell *c, const char *run, int rep)
{
	int before = host_device_count(c->host), fd, rc, host = c->host;
	long long us, cycles, maxid = host_max_id(c), opc[256], total;
	struct vsas_walk walk;
	struct jrec r;
	pid_t w;

	vsas_reset_counters(host);
	w = writer_start(host, "- - -", &fd);
	if (!writer_wait(w, SCAN_PATIENCE_MS) &&
	    !vsas_wait_walk(c->name, host, true, w, &walk)) {
		record_unbounded(c, run, rep, maxid, &walk, before);
		return -1;
	}
	rc = writer_rc(fd, &us, &cycles);
	total = vsas_opcodes(host, opc);
	record_head(&r, c, run, rep);
	jrec_int(&r, "max_id", maxid);
	jrec_bool(&r, "unbounded", false);
	jrec_int(&r, "rc", rc);
	jrec_int(&r, "us", us);
	jrec_double(&r, "tsc_us", tsc_hz > 0 ? (double)cycles * 1e6 / tsc_hz : -1.0, 1);
	jrec_int(&r, "devices", c->devs);
	jrec_int(&r, "before", before);
	jrec_int(&r, "after", host_device_count(host));
	jrec_int(&r, "listed", bench_listed(c));
	jrec_int(&r, "cmds", vsas_counter(host, "cmds"));
	jrec_int(&r, "opc_total", total);
	opcodes_json(&r, opc);
	jrec_int(&r, "absent_cmds", vsas_counter(host, "absent_cmds"));
	jrec_int(&r, "absent_probes", vsas_counter(host, "absent_probes"));
	jrec_int(&r, "target_allocs", vsas_counter(host, "target_allocs"));
	jrec_int(&r, "slave_allocs", vsas_counter(host, "slave_allocs"));
	jrec_int(&r, "resets", vsas_counter(host, "resets"));
	jrec_emit(&r);
	return us;
}

/*
 * Runs whose rescan walked absent ids for longer than SLOW_RESCAN_US, as
 * "personality/run": one repetition is enough, and the walk does not depend
 * on the devices present, so the cells after it in this boot skip the run.
 */
#define SLOW_RESCAN_US 5000000LL
static char slow_runs[64][48];
static int nr_slow;

static bool is_slow(const struct bench_cell *c, const char *run, bool mark)
{
	char key[48];
	int i;

	snprintf(key, sizeof(key), "%.20s/%.24s", c->pers, run);
	for (i = 0; i < nr_slow; i++)
		if (!strcmp(slow_runs[i], key))
			return true;
	if (mark && nr_slow < 64)
		snprintf(slow_runs[nr_slow++], sizeof(slow_runs[0]), "%s", key);
	return false;
}

/*
 * One repetition of @run: max_id set, the k-new deletions, the rescan.
 * Returns 1 to go on, 0 when the run is over (slow, or its devices were
 * not restored), -1 when the rescan is unbounded (end the boot).
 */
static int bench_rep(struct bench_cell *c, const char *run, int rep, const char *def_maxid)
{
	bool knew = !strcmp(run, "knew");
	int n = host_device_count(c->host);
	long long us;

	vsas_set(c->name, "max_id", knew || !strcmp(run, "def") ? def_maxid : run);
	if (knew && (n != c->devs || delete_spread(c->host, c->k) ||
		     !wait_device_count(c->host, n - c->k, 30000))) {
		/* a rescan that did not restore them ends the run */
		char stopped[64];
		struct jrec r;

		snprintf(stopped, sizeof(stopped), "%d of %d present", n, c->devs);
		record_head(&r, c, run, rep);
		jrec_str(&r, "stopped", stopped);
		jrec_emit(&r);
		return 0;
	}
	us = rescan(c, run, rep);
	if (us < 0)
		return -1;
	/* volumes the driver forgot (smartpqi) come back by its own scan, untimed */
	if (knew)
		vsas_rescan_forgotten(c->name, c->host);
	if (!knew && us > SLOW_RESCAN_US) {
		is_slow(c, run, true);
		return 0;
	}
	return 1;
}

static void record_skipped(const struct bench_cell *c, const char *run)
{
	char why[64];
	struct jrec r;

	snprintf(why, sizeof(why), "rescans over %lld s at a smaller size",
		 SLOW_RESCAN_US / 1000000);
	record_head(&r, c, run, -1);
	jrec_str(&r, "skipped", why);
	jrec_emit(&r);
}

static unsigned long long run_max_id(const char *run, const char *def_maxid)
{
	return strtoull(strcmp(run, "def") ? run : def_maxid, NULL, 0);
}

/*
 * The runs of one cell; false if one was unbounded (end the boot). The
 * nothing-new runs (def and the max_id settings) take turns, one
 * repetition each, so that a slow phase of the machine slows all of them
 * alike: their times are compared with each other. k-new runs follow.
 */
static bool bench_runs(struct bench_cell *c, const char *def_maxid)
{
	char runs[128], *run, *save, *turn[8];
	bool done[8] = { false }, knew = false;
	int nturn = 0, rep, i, more = 1;

	snprintf(runs, sizeof(runs), "%s", c->runs);
	for (run = strtok_r(runs, ",", &save); run; run = strtok_r(NULL, ",", &save)) {
		if (is_slow(c, run, false)) {
			record_skipped(c, run);
			continue;
		}
		if (!strcmp(run, "knew"))
			knew = true;
		else if (nturn < 8)
			turn[nturn++] = run;
	}
	/*
	 * Largest max_id first: if a walk is unbounded it is that one, in
	 * repetition 0, and ends the boot before the others have started
	 * (lab/bench.py reruns them whole on the next boot).
	 */
	for (i = 1; i < nturn; i++) {
		char *t = turn[i];
		int j = i;

		while (j > 0 && run_max_id(turn[j - 1], def_maxid) < run_max_id(t, def_maxid)) {
			turn[j] = turn[j - 1];
			j--;
		}
		turn[j] = t;
	}
	for (rep = 0; rep < c->reps && more >= 0; rep++)
		for (i = 0; i < nturn && more >= 0; i++) {
			if (done[i])
				continue;
			more = bench_rep(c, turn[i], rep, def_maxid);
			done[i] = more == 0;
		}
	if (more >= 0 && knew)
		for (rep = 0; rep < c->kreps; rep++) {
			more = bench_rep(c, "knew", rep, def_maxid);
			if (more <= 0)
				break;
		}
	vsas_set(c->name, "max_id", def_maxid);
	return more >= 0;
}

/* Create the cell's host and wait for its devices; how many there are. */
static int bench_host(struct bench_cell *c, long long *create_us)
{
	const char *params[4] = { "num_phys=16", NULL, NULL, NULL };
	char set[128], *kv, *save;
	long long t0;
	int np = 1;

	snprintf(set, sizeof(set), "%s", c->set);
	for (kv = strtok_r(set, ";", &save); kv && np < 3; kv = strtok_r(NULL, ";", &save))
		params[np++] = kv;
	t0 = now_us();
	c->host = vsas_create(c->name, c->pers, params, c->topo);
	if (c->host >= 0) {
		wait_device_count(c->host, c->devs, 60000 + 200U * c->devs);
		/* an add's REPORT LUNS may still follow its LUN 0: not the rescan's */
		vsas_devcmd(c->name, "flush");
	}
	*create_us = now_us() - t0;
	return c->host >= 0 ? host_device_count(c->host) : -1;
}

/* Run one cell; false if the boot must end (unbounded rescan). */
static bool bench_cell(struct bench_cell *c, int idx)
{
	char maxid[32], path[128], msg[96];
	long long create_us;
	struct jrec r;
	bool more;
	int n;

	snprintf(c->name, sizeof(c->name), "b%d", idx);
	kmsg("cell begin %s\n", c->id);
	n = bench_host(c, &create_us);
	if (n != c->devs) {
		snprintf(msg, sizeof(msg), "host with %d devices: %d present", c->devs, n);
		record_head(&r, c, NULL, -1);
		jrec_str(&r, "error", msg);
		jrec_emit(&r);
		kmsg("cell end %s\n", c->id);
		vsas_destroy(c->name);
		return true;
	}
	snprintf(path, sizeof(path), VSAS_CFS "/%s/max_id", c->name);
	read_str(path, maxid, sizeof(maxid));
	record_head(&r, c, "create", -1);
	jrec_int(&r, "us", create_us);
	jrec_int(&r, "devices", n);
	jrec_int(&r, "max_id", strtoll(maxid, NULL, 0));
	jrec_emit(&r);
	more = bench_runs(c, maxid);
	kmsg("cell end %s\n", c->id);
	if (more && vsas_destroy(c->name))
		diag("cell %s: host %s could not be removed", c->id, c->name);
	return more;
}

/* One line of BENCH_FILE: 1 go on, 0 end the boot, -1 bad line. */
static int bench_line(const char *line)
{
	static int idx;
	struct bench_cell c = { .host = -1 };
	const struct cell_key keys[] = {
		CELL_STR_KEY("cell", c.id, true), CELL_STR_KEY("pers", c.pers, true),
		CELL_STR_KEY("topo", c.topo, false), CELL_STR_KEY("set", c.set, false),
		CELL_STR_KEY("runs", c.runs, false),
		CELL_INT_KEY("devs", &c.devs, 0, 1000000, false),
		CELL_INT_KEY("reps", &c.reps, 0, 100000, false),
		CELL_INT_KEY("kreps", &c.kreps, 0, 100000, false),
		CELL_INT_KEY("k", &c.k, 0, 1000000, false),
	};
	char err[160];

	if (cell_parse(line, keys, sizeof(keys) / sizeof(keys[0]), 0, err, sizeof(err))) {
		diag("bench: %s: %.200s", err, line);
		return -1;
	}
	if (!bench_cell(&c, idx++))
		cells_end_boot("BENCH", c.id);	/* a rescan never ends */
	return 1;
}

GUEST_CASE_T(bench, "run the rescan benchmark cells listed in " BENCH_FILE, 0)
{
	char printk[64] = "7 4 1 7";
	long long c0, t0;
	struct jrec r;
	int ret;

	/* no sd: adds stay cheap and only the midlayer's scan commands count */
	if (write_str(AUTOPROBE, "0"))
		diag("cannot clear %s: sd binds, its commands count too", AUTOPROBE);
	/*
	 * The serial console would print two lines per device added, in the
	 * scanning thread: show warnings and worse only (splats), cell markers
	 * at warning level.
	 */
	read_str(PRINTK, printk, sizeof(printk));
	write_str(PRINTK, "5");
	kmsg_level = 4;
	c0 = tsc_cycles();
	t0 = now_us();
	sleep_ms(2000);
	tsc_hz = c0 ? (double)(tsc_cycles() - c0) * 1e6 / (double)(now_us() - t0) : 0;
	jrec_init(&r, "BENCH-CLOCK");
	jrec_double(&r, "tsc_hz", tsc_hz, 0);
	jrec_emit(&r);
	ret = cells_run(BENCH_FILE, bench_line);
	write_str(AUTOPROBE, "1");
	write_str(PRINTK, printk);
	return ret;
}
