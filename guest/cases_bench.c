// SPDX-License-Identifier: GPL-2.0
/*
 * The rescan benchmark, guest side (docs/bench.md). The host (lab/bench.py)
 * writes the cells into /etc/sasscan/bench.txt, one per line:
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

#define emit(...) diag_record("BENCH", __VA_ARGS__)

/* Non-zero opcodes of @host as a JSON object into @buf; returns the total. */
static long long opcodes_json(int host, char *buf, size_t size)
{
	long long opc[256], total = vsas_opcodes(host, opc);
	size_t used = snprintf(buf, size, "{");
	unsigned int i;

	for (i = 0; i < 256 && used < size; i++)
		if (opc[i])
			used += snprintf(buf + used, size - used, "%s\"0x%02x\": %lld",
					 used > 1 ? ", " : "", i, opc[i]);
	if (used < size)
		snprintf(buf + used, size - used, "}");
	return total;
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
static long long rescan(struct bench_cell *c, const char *run, int rep)
{
	char opc[1024], maxid[32], path[128];
	int before = host_device_count(c->host), fd, rc;
	long long us, cycles, total;
	struct vsas_walk walk;
	pid_t w;

	snprintf(path, sizeof(path), VSAS_CFS "/%s/max_id", c->name);
	read_str(path, maxid, sizeof(maxid));
	vsas_reset_counters(c->host);
	w = writer_start(c->host, "- - -", &fd);
	if (!writer_wait(w, SCAN_PATIENCE_MS) &&
	    !vsas_wait_walk(c->name, c->host, true, w, &walk)) {
		emit("{\"cell\": \"%s\", \"run\": \"%s\", \"rep\": %d, \"max_id\": %s, "
		     "\"unbounded\": true, \"probe_rate\": %.1f, \"cmd_rate\": %.1f, "
		     "\"absent_probes\": %lld, \"extrapolated_probes\": %.0f, "
		     "\"extrapolated_s\": %.0f, \"devices\": %d}",
		     c->id, run, rep, maxid, walk.rate, walk.cmd_rate, walk.probes, walk.total,
		     walk.rate > 0 ? walk.total / walk.rate : -1.0, before);
		return -1;
	}
	rc = writer_rc(fd, &us, &cycles);
	total = opcodes_json(c->host, opc, sizeof(opc));
	emit("{\"cell\": \"%s\", \"run\": \"%s\", \"rep\": %d, \"max_id\": %s, "
	     "\"unbounded\": false, \"rc\": %d, \"us\": %lld, \"tsc_us\": %.1f, "
	     "\"devices\": %d, "
	     "\"before\": %d, \"after\": %d, \"cmds\": %lld, \"opc_total\": %lld, "
	     "\"opc\": %s, \"absent_cmds\": %lld, \"absent_probes\": %lld, "
	     "\"target_allocs\": %lld, \"slave_allocs\": %lld, \"resets\": %lld}",
	     c->id, run, rep, maxid, rc, us, tsc_hz > 0 ? (double)cycles * 1e6 / tsc_hz : -1.0,
	     c->devs, before, host_device_count(c->host),
	     vsas_counter(c->host, "cmds"), total, opc,
	     vsas_counter(c->host, "absent_cmds"), vsas_counter(c->host, "absent_probes"),
	     vsas_counter(c->host, "target_allocs"), vsas_counter(c->host, "slave_allocs"),
	     vsas_counter(c->host, "resets"));
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
		emit("{\"cell\": \"%s\", \"run\": \"%s\", \"rep\": %d, "
		     "\"stopped\": \"%d of %d present\"}", c->id, run, rep, n, c->devs);
		return 0;
	}
	us = rescan(c, run, rep);
	if (us < 0)
		return -1;
	if (!knew && us > SLOW_RESCAN_US) {
		is_slow(c, run, true);
		return 0;
	}
	return 1;
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
			emit("{\"cell\": \"%s\", \"run\": \"%s\", \"skipped\": "
			     "\"rescans over %lld s at a smaller size\"}", c->id, run,
			     SLOW_RESCAN_US / 1000000);
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

/* Run one cell; false if the boot must end (unbounded rescan). */
static bool bench_cell(struct bench_cell *c, int idx)
{
	const char *params[] = { "num_phys=16", NULL, NULL, NULL };
	char maxid[32], path[128], set[128], *kv, *save;
	long long t0, create_us;
	int n, np = 1;
	bool more;

	snprintf(c->name, sizeof(c->name), "b%d", idx);
	snprintf(set, sizeof(set), "%s", c->set);
	for (kv = strtok_r(set, ";", &save); kv && np < 3; kv = strtok_r(NULL, ";", &save))
		params[np++] = kv;
	kmsg("cell begin %s\n", c->id);
	t0 = now_us();
	c->host = vsas_create(c->name, c->pers, params, c->topo);
	if (c->host >= 0) {
		wait_device_count(c->host, c->devs, 60000 + 200U * c->devs);
		/* an add's REPORT LUNS may still follow its LUN 0: not the rescan's */
		vsas_devcmd(c->name, "flush");
	}
	create_us = now_us() - t0;
	n = c->host >= 0 ? host_device_count(c->host) : -1;
	if (n != c->devs) {
		emit("{\"cell\": \"%s\", \"error\": \"host with %d devices: %d present\"}",
		     c->id, c->devs, n);
		kmsg("cell end %s\n", c->id);
		vsas_destroy(c->name);
		return true;
	}
	snprintf(path, sizeof(path), VSAS_CFS "/%s/max_id", c->name);
	read_str(path, maxid, sizeof(maxid));
	emit("{\"cell\": \"%s\", \"run\": \"create\", \"us\": %lld, \"devices\": %d, "
	     "\"max_id\": %s}", c->id, create_us, n, maxid);
	more = bench_runs(c, maxid);
	kmsg("cell end %s\n", c->id);
	if (more && vsas_destroy(c->name))
		diag("cell %s: host %s could not be removed", c->id, c->name);
	return more;
}

/* One line of BENCH_FILE; false if the boot must end. */
static bool bench_line(const char *line)
{
	static int idx;
	struct bench_cell c = {
		.devs = cell_int(line, "devs"), .reps = cell_int(line, "reps"),
		.kreps = cell_int(line, "kreps"), .k = cell_int(line, "k"),
	};

	cell_field(line, "cell", c.id, sizeof(c.id));
	cell_field(line, "pers", c.pers, sizeof(c.pers));
	cell_field(line, "topo", c.topo, sizeof(c.topo));
	cell_field(line, "set", c.set, sizeof(c.set));
	cell_field(line, "runs", c.runs, sizeof(c.runs));
	if (!bench_cell(&c, idx++))
		cells_end_boot("BENCH", c.id);	/* a rescan never ends */
	return true;
}

GUEST_CASE_T(bench, "run the rescan benchmark cells listed in " BENCH_FILE, 0)
{
	char printk[64] = "7 4 1 7";
	long long c0, t0;
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
	diag("BENCH-CLOCK {\"tsc_hz\": %.0f}", tsc_hz);
	ret = cells_run(BENCH_FILE, bench_line);
	write_str(AUTOPROBE, "1");
	write_str(PRINTK, printk);
	return ret;
}
