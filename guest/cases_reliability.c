// SPDX-License-Identifier: GPL-2.0
/*
 * The reliability suite, guest side. lab/reliability.py writes the cells
 * into /etc/sasscan/reliability.txt, one per line (grammar: docs/lab.md):
 *
 *   cell=ID pers=NAME topo=A,B,.. [set=attr=v;..] kind=KIND k=K rounds=R
 *       seed=S reqs=C_T_L,C_T_L,.. [n=N]
 *
 * KIND is one of
 *   writers   K writers issue the valid requests @reqs, round after round
 *   delete    ... while a device is deleted through its "delete" attribute
 *   hotplug   ... while a device is hot-added/removed (noticed) on each channel
 *   rpm       ... on a host that runtime-suspends between rounds
 *   rpmadd    rpm, with a device of the last channel deleted before the host
 *             suspends: the scans add it again, its first commands sent
 *             before the device exists to keep its controller awake
 *   remove    ... while the host is removed (configfs rmdir): a fresh host per round
 *   rmmod     ... while vsas is unloaded (module-parameter host), then reloaded;
 *             first tried while the I/O load holds the disks open (refused)
 *   badinput  N strings (hand-picked table + seeded random) written to "scan"
 *   reset     ... while the driver enters its reset state at a random point
 *             of the round, a device comes or goes, and the reset ends
 *   nomem     one writer: the n-th slab allocation of its scan fails
 *             (failslab, fail-nth), n = 1, 1 + K, ... (K: k, default 1)
 *
 * In every round each writer writes one request (chosen from @reqs by the
 * seeded generator) while the round's disturbance happens; then the host's
 * devices are compared with the emulated firmware (lost, stale, duplicated
 * by WWID). A verified I/O load runs on the host's disks throughout. Each
 * cell prints one "# RELIABILITY {json}" line; verdicts are computed on the
 * host from these measurements and the kernel log, which the cell marks with
 * "sasscan: cell begin|end ID" like the matrix. A round whose writes have not
 * returned within the patience limit is a stuck scan: the record says so,
 * the case waits for the hung-task detector and ends the boot; the host
 * boots again for the remaining cells.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest.h"
#include "vsas_util.h"

#define REL_FILE "/etc/sasscan/reliability.txt"
#define MAX_K 16
#define MAX_REQS 16
#define MAX_LOADS 16
/* between blocks of the I/O load: continuous, but TCG still runs the scans */
#define IO_PACE_MS 2

struct rcell {
	char id[80], pers[32], kind[16], topo[256], set[256], reqs[256];
	int k, rounds, n;
	unsigned long long seed;
};

/* Figures of one cell (printed as JSON). */
struct figures {
	long long ops, write_errors, rounds, lost, lost_rounds, stale, stale_rounds;
	long long dups, io_ops, io_errors, corrupt, io_errors_removed;
	long long scans_at_once, resets, io_failed_by_reset, absent_probes;
	long long rphyless, hotplug, suspends, resumes, suspended_seen;
	/* commands that reached a runtime-suspended host (vsas resumes it) */
	long long cmds_suspended;
	long long removals, removal_ms_max, leftover_hosts, reloads, reload_errors;
	long long max_write_ms;
	/* faults: failslab injections, the scans' results, kmemleak */
	long long faults, enomem_results, ok_results, bad_results, fix_enomem;
	long long half_added, leaks, resets_entered, unexposed;
	long long rmmod_refused, rmmod_while_open;
	/* reset cells: -EBUSY is a scan's defined result while the driver resets */
	bool busy_ok;
	long long busy_results;
	bool kmemleak;
	bool stuck;
	char stuck_state, note[160];
	/* a bad input that never returned: the note is these bytes */
	char note_bytes[40];
	size_t note_len;
};

/* What the badinput kind adds to the record. */
#define BAD_EXAMPLES 32
struct bad_stats {
	long long tried, table_n, rejected, accepted, acc_valid, rej_valid;
	long long acc_syntax, acc_range, acc_wrap, wrap, side;
	struct {
		char input[40];
		size_t len;
		int err;
		const char *why;
	} ex[BAD_EXAMPLES];
	int nex;
	size_t ex_text;		/* the examples' length as JSON text */
};

static unsigned long long rng;

static unsigned long long rnd(void)
{
	/* xorshift64: reproducible from the cell's seed */
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static unsigned int rnd_below(unsigned int n)
{
	return n ? (unsigned int)(rnd() % n) : 0;
}

/* ---- writer pool: K long-lived writers, one request per round each ------- */

struct wcmd {
	int host;
	char req[48];
};

struct wres {
	int rc, ms;
};

struct pool {
	int k;
	pid_t pid[MAX_K];
	int cmd[MAX_K], res[MAX_K];
	bool busy[MAX_K];
};

static void pool_child(int in, int out)
{
	struct wcmd c;

	while (read(in, &c, sizeof(c)) == (ssize_t)sizeof(c)) {
		long long t = now_ms();
		struct wres r = { .rc = scan_host(c.host, c.req) };

		r.ms = (int)(now_ms() - t);
		if (write(out, &r, sizeof(r)) != (ssize_t)sizeof(r))
			break;
	}
	_exit(0);
}

static int pool_start(struct pool *p, int k)
{
	int i;

	memset(p, 0, sizeof(*p));
	for (i = 0; i < k && i < MAX_K; i++) {
		int c[2], r[2];

		if (pipe(c) || pipe(r))
			return -1;
		p->pid[i] = fork();
		if (p->pid[i] == 0) {
			int j;

			/* earlier writers' pipes: keep none, or they never see EOF */
			for (j = 0; j < i; j++) {
				close(p->cmd[j]);
				close(p->res[j]);
			}
			close(c[1]);
			close(r[0]);
			pool_child(c[0], r[1]);
		}
		close(c[0]);
		close(r[1]);
		p->cmd[i] = c[1];
		p->res[i] = r[0];
		p->k++;
	}
	return 0;
}

static void pool_send(struct pool *p, int host, char reqs[][48], int nreqs)
{
	int i;

	for (i = 0; i < p->k; i++) {
		struct wcmd c = { .host = host };

		snprintf(c.req, sizeof(c.req), "%s", reqs[rnd_below((unsigned int)nreqs)]);
		p->busy[i] = write(p->cmd[i], &c, sizeof(c)) == (ssize_t)sizeof(c);
	}
}

/*
 * Collect the round's results; false if a writer has not answered within
 * @ms (a stuck scan). Write errors are counted unless @errors_ok.
 */
static bool pool_collect(struct pool *p, unsigned int ms, struct figures *f,
			 bool errors_ok)
{
	long long end = now_ms() + ms;
	int i;

	for (i = 0; i < p->k; i++) {
		struct pollfd pfd = { .fd = p->res[i], .events = POLLIN };
		struct wres r;
		long long left;

		if (!p->busy[i])
			continue;
		left = end - now_ms();
		if (left < 0 || poll(&pfd, 1, (int)left) != 1)
			return false;
		if (read(p->res[i], &r, sizeof(r)) != (ssize_t)sizeof(r))
			return false;
		p->busy[i] = false;
		f->ops++;
		if (r.rc == -EBUSY && f->busy_ok)
			f->busy_results++;
		else if (r.rc && !errors_ok)
			f->write_errors++;
		if (r.ms > f->max_write_ms)
			f->max_write_ms = r.ms;
	}
	return true;
}

static char pool_stuck_state(struct pool *p)
{
	int i;

	for (i = 0; i < p->k; i++)
		if (p->busy[i] && task_state(p->pid[i]) == 'D')
			return 'D';
	return p->k ? task_state(p->pid[0]) : '?';
}

static void pool_stop(struct pool *p)
{
	int i;

	for (i = 0; i < p->k; i++) {
		close(p->cmd[i]);
		close(p->res[i]);
		waitpid(p->pid[i], NULL, 0);
	}
	p->k = 0;
}

/* ---- I/O load on every disk of a host ------------------------------------ */

struct loads {
	int n;
	struct ioload io[MAX_LOADS];
};

/*
 * Start a verified load on each disk of @host except channel @skip_ch's, on
 * @max disks at most.
 */
static void loads_start(struct loads *l, int host, int skip_ch, unsigned int pace_ms, int max)
{
	static struct scsi_addr devs[MAX_DEVS];
	int n = host_devices(host, devs, MAX_DEVS), i;

	l->n = 0;
	for (i = 0; i < n && l->n < MAX_LOADS && l->n < max; i++) {
		char disk[32] = "";
		int tries;

		if ((int)devs[i].channel == skip_ch)
			continue;
		for (tries = 0; tries < 50 && !disk[0]; tries++) {
			device_disk(&devs[i], disk, sizeof(disk));
			if (!disk[0])
				sleep_ms(100);
		}
		if (disk[0] && !ioload_start(&l->io[l->n], disk, pace_ms))
			l->n++;
	}
}

static void loads_stop(struct loads *l, struct figures *f, bool removed)
{
	int i;

	for (i = 0; i < l->n; i++) {
		long long res[3];

		ioload_stop(&l->io[i], res);
		f->io_ops += res[0] > 0 ? res[0] : 0;
		if (removed)
			f->io_errors_removed += res[1] > 0 ? res[1] : 0;
		else
			f->io_errors += res[1] != 0 ? (res[1] > 0 ? res[1] : 1) : 0;
		f->corrupt += res[2] > 0 ? res[2] : 0;
	}
	l->n = 0;
}

/* ---- device set vs. emulated firmware ------------------------------------ */

static int cmp_str(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

/* Devices of @host that share a WWID with another (one firmware LU twice). */
static int duplicate_wwids(int host)
{
	static struct scsi_addr devs[MAX_DEVS];
	static char w[MAX_DEVS][96];
	int n = host_devices(host, devs, MAX_DEVS), m = 0, i, dups = 0;

	for (i = 0; i < n; i++) {
		char path[160];

		snprintf(path, sizeof(path), "/sys/class/scsi_device/%d:%u:%u:%llu/device/wwid",
			 host, devs[i].channel, devs[i].id, devs[i].lun);
		if (read_str(path, w[m], sizeof(w[m])) > 0)
			m++;
	}
	qsort(w, (size_t)m, sizeof(w[0]), cmp_str);
	for (i = 1; i < m; i++)
		if (!strcmp(w[i], w[i - 1]))
			dups++;
	return dups;
}

/* Wait for the host to settle on the driver's set, then count differences. */
static void compare_devices(const char *name, int host, struct figures *f)
{
	static char expect[16384], have[16384];
	struct req all;
	int lost, stale, dups;

	req_parse("- - -", &all);
	vsas_devcmd(name, "flush");
	/* what the driver lists: smartpqi forgets a device a user deletes */
	vsas_listed_devices(name, &all, expect, sizeof(expect));
	if (!wait_devices(host, expect, 3000))
		vsas_listed_devices(name, &all, expect, sizeof(expect));
	host_device_string(host, have, sizeof(have));
	lost = count_words_in(expect, have, false);
	stale = count_words_in(have, expect, false);
	dups = duplicate_wwids(host);
	if (lost > f->lost)
		f->lost = lost;
	if (stale > f->stale)
		f->stale = stale;
	if (dups > f->dups)
		f->dups = dups;
	f->lost_rounds += lost > 0;
	f->stale_rounds += stale > 0;
	if ((lost || stale || dups) && !f->note[0])
		snprintf(f->note, sizeof(f->note), "round %lld: want [%.50s] have [%.50s]",
			 f->rounds, expect, have);
}

#define CTR(n) vsas_counter(host, n)

/* Counters of a host still present, added into @f. */
static void take_counters(int host, struct figures *f)
{
	long long a = CTR("scan_calls_concurrent_max"), b = CTR("scans_active_max");

	if ((a > b ? a : b) > f->scans_at_once)
		f->scans_at_once = a > b ? a : b;
	f->resets += CTR("resets");
	f->io_failed_by_reset += CTR("io_failed_by_reset");
	f->absent_probes += CTR("absent_probes");
	f->rphyless += CTR("target_alloc_would_oops") + CTR("target_alloc_wild_read");
	f->hotplug += CTR("hotplug_events");
	f->suspends += CTR("runtime_suspends");
	f->unexposed += CTR("unexposed_probes");
	f->resumes += CTR("runtime_resumes");
	f->cmds_suspended += CTR("cmds_while_suspended");
	vsas_reset_counters(host);
}

/* ---- output --------------------------------------------------------------- */

static void figures_counts(struct jrec *r, const struct figures *f)
{
	jrec_int(r, "rounds", f->rounds);
	jrec_int(r, "ops", f->ops);
	jrec_int(r, "write_errors", f->write_errors);
	jrec_int(r, "max_write_ms", f->max_write_ms);
	jrec_int(r, "lost", f->lost);
	jrec_int(r, "lost_rounds", f->lost_rounds);
	jrec_int(r, "stale", f->stale);
	jrec_int(r, "stale_rounds", f->stale_rounds);
	jrec_int(r, "duplicated", f->dups);
	jrec_int(r, "io_ops", f->io_ops);
	jrec_int(r, "io_errors", f->io_errors);
	jrec_int(r, "corrupt_blocks", f->corrupt);
	jrec_int(r, "io_errors_after_removal", f->io_errors_removed);
	jrec_int(r, "concurrent_scan_start_max", f->scans_at_once);
	jrec_int(r, "phy_resets", f->resets);
	jrec_int(r, "io_failed_by_reset", f->io_failed_by_reset);
	jrec_int(r, "absent_probes", f->absent_probes);
	jrec_int(r, "rphyless_target_allocs", f->rphyless);
	jrec_int(r, "hotplug_events", f->hotplug);
	jrec_int(r, "runtime_suspends", f->suspends);
	jrec_int(r, "runtime_resumes", f->resumes);
	jrec_int(r, "cmds_while_suspended", f->cmds_suspended);
	jrec_int(r, "suspended_seen", f->suspended_seen);
	jrec_int(r, "removals", f->removals);
	jrec_int(r, "removal_ms_max", f->removal_ms_max);
	jrec_int(r, "leftover_hosts", f->leftover_hosts);
	jrec_int(r, "reloads", f->reloads);
	jrec_int(r, "reload_errors", f->reload_errors);
	jrec_int(r, "faults_injected", f->faults);
	jrec_int(r, "enomem_results", f->enomem_results);
	jrec_int(r, "ok_results", f->ok_results);
	jrec_int(r, "bad_results", f->bad_results);
	jrec_int(r, "report_enomem", f->fix_enomem);
	jrec_int(r, "half_added", f->half_added);
	jrec_int(r, "resets_entered", f->resets_entered);
	jrec_int(r, "busy_results", f->busy_results);
	jrec_int(r, "unexposed_probes", f->unexposed);
	jrec_int(r, "rmmod_refused", f->rmmod_refused);
	jrec_int(r, "rmmod_while_open", f->rmmod_while_open);
	jrec_bool(r, "kmemleak", f->kmemleak);
	jrec_int(r, "leaks", f->leaks);
}

static void bad_members(struct jrec *r, const struct bad_stats *b)
{
	int i;

	jrec_int(r, "bad_tried", b->tried);
	jrec_int(r, "bad_table", b->table_n);
	jrec_int(r, "bad_rejected", b->rejected);
	jrec_int(r, "bad_accepted", b->accepted);
	jrec_int(r, "bad_accepted_valid", b->acc_valid);
	jrec_int(r, "bad_rejected_valid", b->rej_valid);
	jrec_int(r, "bad_accepted_invalid", b->acc_syntax);
	jrec_int(r, "bad_accepted_out_of_range", b->acc_range);
	jrec_int(r, "bad_wrapped_tried", b->wrap);
	jrec_int(r, "bad_accepted_wrapped", b->acc_wrap);
	jrec_int(r, "bad_side_effects", b->side);
	jrec_begin(r, "bad_examples", '[');
	for (i = 0; i < b->nex; i++) {
		jrec_begin(r, NULL, '{');
		jrec_bytes(r, "input", b->ex[i].input, b->ex[i].len);
		jrec_int(r, "errno", b->ex[i].err);
		jrec_str(r, "why", b->ex[i].why);
		jrec_end(r);
	}
	jrec_end(r);
}

/* The cell's record; @b: the badinput kind's figures, or NULL. */
static void emit_figures(const struct rcell *c, const struct figures *f,
			 const struct bad_stats *b)
{
	char state = f->stuck_state ? f->stuck_state : '-';
	struct jrec r;

	jrec_init(&r, "RELIABILITY");
	jrec_str(&r, "cell", c->id);
	jrec_str(&r, "pers", c->pers);
	jrec_str(&r, "kind", c->kind);
	jrec_int(&r, "k", c->k);
	figures_counts(&r, f);
	jrec_bool(&r, "stuck", f->stuck);
	jrec_strn(&r, "stuck_state", &state, 1);
	if (f->note_len)
		jrec_bytes(&r, "note", f->note_bytes, f->note_len);
	else
		jrec_str(&r, "note", f->note);
	if (b)
		bad_members(&r, b);
	jrec_emit(&r);
}

/* A round never returned: let the hung-task detector see it, record, end the boot. */
static void __attribute__((noreturn)) end_boot_stuck(const struct rcell *c, struct figures *f,
						     struct pool *p)
{
	int hung = (int)read_ll("/proc/sys/kernel/hung_task_timeout_secs");

	f->stuck = true;
	sleep_ms((unsigned int)(2 * (hung > 0 ? hung : 10) + 3) * 1000);
	f->stuck_state = p ? pool_stuck_state(p) : '?';
	emit_figures(c, f, NULL);
	kmsg("cell end %s\n", c->id);
	cells_end_boot("RELIABILITY", c->id);
}

/* ---- faults: kmemleak, failslab ------------------------------------------ */

#define KMEMLEAK "/sys/kernel/debug/kmemleak"
#define FAILSLAB "/sys/kernel/debug/failslab"
#define FAIL_NTH "/proc/thread-self/fail-nth"

/* Forget the leaks found so far; false if kmemleak is off in this boot. */
static bool leaks_clear(void)
{
	return write_str(KMEMLEAK, "clear") == 0;
}

/*
 * The leaks kmemleak reports after the cell: it reports only objects older
 * than 5 s, so wait that long, scan, and count the objects listed. The
 * first one's allocation trace goes into the note.
 */
static void leaks_count(struct figures *f)
{
	static char buf[32768];
	size_t len = 0;
	ssize_t n;
	char *p;
	int fd;

	if (!f->kmemleak)
		return;
	sleep_ms(5500);
	if (write_str(KMEMLEAK, "scan")) {
		f->kmemleak = false;
		return;
	}
	fd = open(KMEMLEAK, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		f->kmemleak = false;
		return;
	}
	while (len < sizeof(buf) - 1 && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = '\0';
	for (p = buf; (p = strstr(p, "unreferenced object")); p++)
		f->leaks++;
	p = strstr(buf, "backtrace");
	if (f->leaks && p)
		snprintf(f->note, sizeof(f->note), "kmemleak: %.140s", p);
}

/* The n-th fault-injectable allocation of this thread fails (0: none). */
static int fail_nth_set(long long n)
{
	char v[24];

	snprintf(v, sizeof(v), "%lld", n);
	return write_str(FAIL_NTH, v);
}

/* Devices of @host whose state is not "running": half added or removed. */
static int not_running(int host)
{
	static struct scsi_addr devs[MAX_DEVS];
	char path[160], st[32];
	int n = host_devices(host, devs, MAX_DEVS), i, bad = 0;

	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "/sys/class/scsi_device/%d:%u:%u:%llu/device/state",
			 host, devs[i].channel, devs[i].id, devs[i].lun);
		bad += read_str(path, st, sizeof(st)) <= 0 || strcmp(st, "running");
	}
	return bad;
}

/* ---- the cell kinds ---------------------------------------------------- */

/* A line now and then, so a slow cell can be told from a stuck one. */
static void progress(const struct rcell *c, const struct figures *f)
{
	static long long last;

	if (now_ms() - last < 20000)
		return;
	last = now_ms();
	diag("%s: round %lld of %d, %lld writes, slowest %lld ms", c->id, f->rounds,
	     c->rounds ? c->rounds : 1, f->ops, f->max_write_ms);
}

/* Patience for one round: K writes that are serialised on the host. */
static unsigned int patience_ms(const struct rcell *c)
{
	return 20000 + 1500 * (unsigned int)c->k;
}

static int parse_reqs(const struct rcell *c, const char *name, char reqs[][48])
{
	char copy[256], *t, *save;
	int n = 0;

	snprintf(copy, sizeof(copy), "%s", c->reqs[0] ? c->reqs : "-_-_-");
	for (t = strtok_r(copy, ",", &save); t && n < MAX_REQS; t = strtok_r(NULL, ",", &save)) {
		snprintf(reqs[n], 48, "%s", t);
		vsas_resolve_req(name, reqs[n], 48);
		n++;
	}
	return n;
}

static int make_host(const struct rcell *c, const char *name, const char *const *params)
{
	char set[256];
	int host = vsas_create(name, c->pers, params, c->topo[0] ? c->topo : NULL);

	if (host < 0)
		return -1;
	snprintf(set, sizeof(set), "%s", c->set);
	vsas_apply_settings(name, set);
	vsas_devcmd(name, "flush");
	sleep_ms(100);
	return host;
}

/* The hot-plug disturbance of round @r: add or remove a device on a channel. */
static void hotplug_step(const char *name, int r, const int *chans, int nch, int *extra)
{
	int ch = chans[r % nch], slot = r % nch;
	char cmd[96], list[16384], *p;

	if (extra[slot] < 0) {
		snprintf(cmd, sizeof(cmd), ch ? "add ch=%d id=9" : "add ch=%d", ch);
		if (vsas_devcmd(name, cmd))
			return;
		snprintf(cmd, sizeof(cmd), VSAS_CFS "/%s/devices", name);
		if (read_str(cmd, list, sizeof(list)) <= 0)
			return;
		/* the newest device is the last line */
		p = strrchr(list, '\n');
		p = p ? p + 1 : list;
		if (sscanf(p, "dev=%d", &extra[slot]) != 1)
			extra[slot] = -1;
	} else {
		snprintf(cmd, sizeof(cmd), "remove dev=%d", extra[slot]);
		vsas_devcmd(name, cmd);
		extra[slot] = -1;
	}
}

static int channels_of(const char *topo, int *chans)
{
	int n = 0, seen[4] = { 0 }, ch;
	const char *p = topo;

	for (;;) {
		ch = (*p >= '1' && *p <= '3' && p[1] == ':') ? *p - '0' : 0;
		if (!seen[ch]) {
			seen[ch] = 1;
			chans[n++] = ch;
		}
		p = strchr(p, ',');
		if (!p)
			break;
		p++;
	}
	return n;
}

static bool wait_status(const char *pdev, const char *want, unsigned int ms)
{
	char path[600], st[32];
	long long end = now_ms() + ms;

	snprintf(path, sizeof(path), "%s/power/runtime_status", pdev);
	do {
		if (read_str(path, st, sizeof(st)) > 0 && !strcmp(st, want))
			return true;
		sleep_ms(10);
	} while (now_ms() < end);
	return false;
}

/*
 * The reset disturbance of round @r: at a random point of the round the
 * driver enters its reset state (vsas driver_state), a device comes or goes
 * meanwhile (mpi3mr leaves a target that arrives then unexposed until the
 * post-reset refresh), and the reset ends at another random point.
 */
static void reset_step(const char *name, int r, const int *chans, int nch, int *extra,
		       struct figures *f)
{
	sleep_ms(rnd_below(40));
	if (vsas_set(name, "driver_state", "reset"))
		return;
	f->resets_entered++;
	hotplug_step(name, r, chans, nch, extra);
	sleep_ms(rnd_below(40));
	vsas_set(name, "driver_state", "ok");
}

/* writers, delete, hotplug, rpm, rpmadd, reset: one host, R rounds. */
static void run_rounds(const struct rcell *c, struct figures *f)
{
	static const char *const rpm_params[] = { "rpm_allow=1", "autosuspend_ms=20", NULL };
	bool add = !strcmp(c->kind, "rpmadd"), del = !strcmp(c->kind, "delete");
	bool rpm = add || !strcmp(c->kind, "rpm");
	bool hot = !strcmp(c->kind, "hotplug"), rst = !strcmp(c->kind, "reset");
	char reqs[MAX_REQS][48], pdev[512] = "";
	int host, nreqs, r, chans[4], nch, extra[4] = { -1, -1, -1, -1 };
	struct loads l;
	struct pool p;

	host = make_host(c, "rel", rpm ? rpm_params : NULL);
	if (host < 0) {
		snprintf(f->note, sizeof(f->note), "host creation failed");
		return;
	}
	nreqs = parse_reqs(c, "rel", reqs);
	nch = channels_of(c->topo, chans);
	f->busy_ok = rst;
	if (rpm) {
		vsas_pdev_path(host, pdev, sizeof(pdev));
		run("for d in /sys/class/scsi_device/%d:*/device/power;"
		    " do echo 20 > $d/autosuspend_delay_ms;"
		    " echo auto > $d/control; done;"
		    " echo auto > %s/power/control", host, pdev);
	}
	/*
	 * Delete cells keep the load off the channel whose devices they delete.
	 * Runtime-PM cells load one disk: the host suspends only when all its
	 * disks are idle at once, which loads on seven disks rarely leave it.
	 */
	loads_start(&l, host, del || add ? chans[nch - 1] : -1, rpm ? 200 : IO_PACE_MS,
		    rpm ? 1 : MAX_LOADS);
	vsas_reset_counters(host);
	pool_start(&p, c->k);
	for (r = 0; r < c->rounds; r++) {
		if (add)
			delete_one_device(host, chans[nch - 1]);
		if (rpm)
			f->suspended_seen += wait_status(pdev, "suspended", 3000);
		pool_send(&p, host, reqs, nreqs);
		if (del)
			delete_one_device(host, chans[nch - 1]);
		else if (hot)
			hotplug_step("rel", r, chans, nch, extra);
		else if (rst)
			reset_step("rel", r, chans, nch, extra, f);
		else if (rpm && r % 4 == 3)
			run("echo on > %s/power/control; echo auto > %s/power/control", pdev, pdev);
		if (!pool_collect(&p, patience_ms(c), f, false)) {
			take_counters(host, f);
			end_boot_stuck(c, f, &p);
		}
		f->rounds++;
		progress(c, f);
		if (del || add) {	/* what was deleted comes back with a full scan */
			scan_host(host, "- - -");
			/* ... or, what the driver forgot (smartpqi), its own scan */
			vsas_rescan_forgotten("rel", host);
		}
		compare_devices("rel", host, f);
	}
	pool_stop(&p);
	if (rpm)
		run("echo on > %s/power/control", pdev);
	loads_stop(&l, f, false);
	take_counters(host, f);
	if (vsas_destroy("rel"))
		snprintf(f->note, sizeof(f->note), "host could not be removed");
}

/*
 * nomem: allocation failure at every point of a user scan. Each round
 * deletes one device of the driver's first channel (so the scan has it to
 * add again), makes the n-th slab allocation of this thread fail (failslab
 * through fail-nth: GFP_KERNEL ones too) and writes "- - -" once; n =
 * 1, 1 + K, ... until a scan ends before its n-th allocation. After each:
 * the write returned 0 or -ENOMEM, -ENOMEM whenever the transport's report
 * list could not grow (vsas saw sas_scan_report_device() fail), no device
 * of the host is half added, and a scan without fault brings every device
 * back.
 */
static void run_nomem(const struct rcell *c, struct figures *f)
{
	int host, chans[4], nch, fd, rc, step = c->k > 0 ? c->k : 1;
	char reqs[MAX_REQS][48], path[96], left[24];
	long long n, before;
	bool injected = true, list_failed;

	host = make_host(c, "rel", NULL);
	if (host < 0) {
		snprintf(f->note, sizeof(f->note), "host creation failed");
		return;
	}
	parse_reqs(c, "rel", reqs);	/* the first, "- - -", every time */
	nch = channels_of(c->topo, chans);
	snprintf(path, sizeof(path), "/sys/class/scsi_host/host%d/scan", host);
	if (write_str(FAILSLAB "/ignore-gfp-wait", "N") || write_str(FAILSLAB "/verbose", "0")) {
		snprintf(f->note, sizeof(f->note), "failslab is not available");
		goto out;
	}
	vsas_reset_counters(host);
	for (n = 1; injected && (!c->rounds || f->rounds < c->rounds); n += step) {
		delete_one_device(host, chans[nch > 1 ? 1 : 0]);
		before = CTR("user_scan_enomem");
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || fail_nth_set(n)) {
			snprintf(f->note, sizeof(f->note), "fail-nth is not available");
			if (fd >= 0)
				close(fd);
			break;
		}
		rc = write(fd, reqs[0], strlen(reqs[0])) < 0 ? -errno : 0;
		/* 0: the n-th allocation failed; else the scan ended before it */
		injected = read_str(FAIL_NTH, left, sizeof(left)) > 0 && !strcmp(left, "0");
		fail_nth_set(0);
		close(fd);
		f->ops++;
		f->rounds++;
		f->faults += injected;
		if (rc == 0)
			f->ok_results++;
		else if (rc == -ENOMEM)
			f->enomem_results++;
		list_failed = CTR("user_scan_enomem") > before;
		f->fix_enomem += list_failed;
		/* any error but -ENOMEM, or success although the list failed */
		if ((rc && rc != -ENOMEM) || (list_failed && rc != -ENOMEM)) {
			f->bad_results++;
			if (!f->note[0])
				snprintf(f->note, sizeof(f->note), "n=%lld: write %d", n, rc);
		}
		f->half_added += not_running(host);
		if (scan_host(host, "- - -"))
			f->write_errors++;
		compare_devices("rel", host, f);
		progress(c, f);
	}
out:
	write_str(FAILSLAB "/ignore-gfp-wait", "Y");
	take_counters(host, f);
	if (vsas_destroy("rel"))
		snprintf(f->note, sizeof(f->note), "host could not be removed");
}

/*
 * The host of a removal round and its requests, under I/O load: a
 * module-parameter host for rmmod (configfs hosts pin the module), else a
 * configfs host. -2 if vsas could not be loaded again.
 */
static int removal_host(const struct rcell *c, struct figures *f, char reqs[][48],
			int *nreqs, struct loads *l)
{
	char cmd[128], proc[48];
	int host;

	if (strcmp(c->kind, "rmmod")) {
		host = make_host(c, "rel", NULL);
		*nreqs = parse_reqs(c, "rel", reqs);
		/* the sd disks hold the module, not the configfs host */
		loads_start(l, host, -1, IO_PACE_MS, MAX_LOADS);
		return host;
	}
	if (unload_module("vsas"))
		f->reload_errors++;
	snprintf(cmd, sizeof(cmd), "modprobe vsas hosts=%s", c->pers);
	if (run("%s", cmd)) {
		f->reload_errors++;
		return -2;
	}
	snprintf(proc, sizeof(proc), "vsas_%s", c->pers);
	*nreqs = 1;
	snprintf(reqs[0], 48, "- - -");
	host = find_host(proc);
	if (host >= 0)
		loads_start(l, host, -1, IO_PACE_MS, MAX_LOADS);
	return host;
}

/* remove / rmmod: the host goes away while the writers scan it. */
static void run_removals(const struct rcell *c, struct figures *f)
{
	bool rmmod = !strcmp(c->kind, "rmmod");
	char reqs[MAX_REQS][48], path[96];
	struct pool p;
	int r;

	pool_start(&p, c->k);
	for (r = 0; r < c->rounds; r++) {
		struct loads l = { 0 };
		long long t;
		int host, nreqs;

		host = removal_host(c, f, reqs, &nreqs, &l);
		if (host == -2)
			break;
		if (host < 0) {
			snprintf(f->note, sizeof(f->note), "host creation failed in round %d", r);
			break;
		}
		vsas_reset_counters(host);
		pool_send(&p, host, reqs, nreqs);
		sleep_ms(rnd_below(60));
		take_counters(host, f);
		t = now_ms();
		if (rmmod) {
			/*
			 * Open disks pin the driver's module (scsi_device_get()):
			 * the unload must be refused while the load runs, and
			 * every block written must read back; then it may go.
			 */
			if (run_capture(NULL, 0, "rmmod vsas 2>/dev/null") == 0)
				f->rmmod_while_open += l.n > 0;
			else
				f->rmmod_refused += l.n > 0;
			loads_stop(&l, f, false);
			if (unload_module("vsas"))
				f->reload_errors++;
		} else if (vsas_destroy("rel")) {
			snprintf(f->note, sizeof(f->note), "host could not be removed in round %d",
				 r);
		}
		t = now_ms() - t;
		f->removals++;
		if (t > f->removal_ms_max)
			f->removal_ms_max = t;
		if (!pool_collect(&p, patience_ms(c), f, true))
			end_boot_stuck(c, f, &p);
		loads_stop(&l, f, true);
		snprintf(path, sizeof(path), "/sys/class/scsi_host/host%d", host);
		f->leftover_hosts += path_exists(path);
		f->rounds++;
		progress(c, f);
	}
	pool_stop(&p);
	if (rmmod) {
		unload_module("vsas");
		if (vsas_load())
			f->reload_errors++;
		else
			f->reloads++;
	}
}

/* ---- bad input -------------------------------------------------------------- */

/*
 * The documented grammar of the scan attribute (scsi_sysfs.c scsi_scan()):
 * three whitespace-separated fields, each "-" (wildcard) or a number in C
 * notation (simple_strtoull base 0: 0x hex, leading 0 octal), nothing after
 * the third; C and T must fit the transport's 32-bit arguments.
 * G_RANGE: beyond the host's limits (C > max_channel, T >= max_id and no
 * rphy's id, L >= max_lun, or beyond 64 bits). Stock honours such requests
 * and so does the fix (no range refusal: docs/design.md): accepted or
 * refused, they must change nothing, like any other request that selects
 * nothing.
 */
/*
 * G_WRAP: a number the midlayer cannot hand on as written. scsi_scan()
 * (scsi_sysfs.c) parses 64-bit values but ->user_scan() and
 * scsi_scan_host_selected() take channel and id as unsigned int, where ~0
 * is SCAN_WILD_CARD: a channel or id >= 2^32 loses its upper bits and
 * 4294967295 (like a LUN of 2^64 - 1) turns into "-" before any transport
 * sees it. Counted apart: only the midlayer can reject it (the series'
 * first patch does), no transport's user_scan ever sees it.
 */
enum gclass { G_SYNTAX, G_RANGE, G_WRAP, G_VALID };

struct limits {
	unsigned long long max_channel, max_id, max_lun;
	unsigned int rphy_ids[64];
	int nrphy;
};

static bool k_isspace(unsigned char ch)
{
	/* the kernel's ctype: \t \n \v \f \r, space and Latin-1 NBSP */
	return ch == ' ' || (ch >= 9 && ch <= 13) || ch == 0xa0;
}

/* simple_strtoull(s, &end, 0) as lib/kstrtox.c does it; *ovf on overflow. */
static unsigned long long k_strtoull(const char *s, const char **end, bool *ovf)
{
	unsigned int base = 10;
	unsigned long long res = 0;

	if (s[0] == '0') {
		base = 8;
		if ((s[1] | 0x20) == 'x' && strchr("0123456789abcdefABCDEF", s[2]) && s[2]) {
			base = 16;
			s += 2;
		}
	}
	for (;; s++) {
		unsigned int ch = (unsigned char)*s, lc = ch | 0x20, v;

		if (ch >= '0' && ch <= '9')
			v = ch - '0';
		else if (lc >= 'a' && lc <= 'f')
			v = lc - 'a' + 10;
		else
			break;
		if (v >= base)
			break;
		if (res > (~0ULL - v) / base)
			*ovf = true;
		res = res * base + v;
	}
	*end = s;
	return res;
}

/* vsscanf(@str, "%10s %10s %16s %c") as the kernel does it: the fields matched. */
static int k_sscanf_fields(const char *str, char tok[3][20])
{
	static const int width[3] = { 10, 10, 16 };
	int i, num = 0;

	for (i = 0; i < 4; i++) {
		int w;

		if (i) {
			while (k_isspace((unsigned char)*str))
				str++;
		}
		if (!*str)
			break;
		if (i == 3) {
			num++;		/* %c: anything after the third field */
			break;
		}
		while (k_isspace((unsigned char)*str))
			str++;
		for (w = 0; *str && !k_isspace((unsigned char)*str) && w < width[i]; w++)
			tok[i][w] = *str++;
		tok[i][w] = '\0';
		num++;
	}
	return num;
}

static enum gclass classify(const char *buf, size_t len, const struct limits *lim)
{
	char tok[3][20], s[4096];
	unsigned long long v[3];
	bool wild[3], ovf = false;
	int i;

	if (len >= sizeof(s))
		len = sizeof(s) - 1;
	memcpy(s, buf, len);
	s[len] = '\0';		/* the store parses a C string: a NUL ends it */
	if (k_sscanf_fields(s, tok) != 3)
		return G_SYNTAX;
	for (i = 0; i < 3; i++) {
		const char *end;

		wild[i] = !strcmp(tok[i], "-");
		if (wild[i])
			continue;
		v[i] = k_strtoull(tok[i], &end, &ovf);
		if (*end)
			return G_SYNTAX;
	}
	if (ovf)
		return G_RANGE;
	if ((!wild[0] && v[0] >= 0xffffffffULL) || (!wild[1] && v[1] >= 0xffffffffULL) ||
	    (!wild[2] && v[2] == ~0ULL))
		return G_WRAP;
	if (!wild[0] && v[0] > lim->max_channel)
		return G_RANGE;
	if (!wild[2] && v[2] >= lim->max_lun)
		return G_RANGE;
	if (!wild[1] && v[1] >= lim->max_id) {
		for (i = 0; i < lim->nrphy; i++)
			if (lim->rphy_ids[i] == v[1])
				return G_VALID;
		return G_RANGE;
	}
	return G_VALID;
}

/* The hand-picked cases; {C+1} etc. are the host's limits (see expand()). */
static const char *const bad_table[] = {
	"", " ", "\n", "\t\t", "-", "- -", "- - - -", "- - - -\n", "0 0 0 0", "-1 - -",
	"- -1 -", "- - -1", "+0 - -", "0x0 - -", "0X1 - -", "0x - -", "00 - -", "08 - -",
	"010 - -", "0xffffffff - -", "4294967295 - -", "4294967296 - -",
	"18446744073709551615 - -", "99999999999 - -", "- 4294967296 -", "- 0xffffffff -",
	"- - 18446744073709551616", "- - 0xffffffffffffffff", "- - 0xfffffffffffffff",
	"* * *", "- * -", "-- - -", "- - --", "\t-\t-\t-\t", "- - -\n\n", "\xa0- - -",
	"-\xa0-\xa0-", "\xc3\xa9 - -", "- - -\xff", "- - \xe2\x80\x93", "1e3 - -", "0b1 - -",
	"- - 0.5", "a b c", "0 0", "0", "- - -x", "x- - -", "0,0,0", "0:0:0", "'-' '-' '-'",
	"{C} - -", "{C+1} - -", "{C-1} - -", "- {I-1} -", "- {I} -", "- {I+1} -",
	"- - {L-1}", "- - {L}", "- - {L+1}", "0 {R} 0", "0 {R} {L}", "{C+1} {R} 0",
	"{C} {I} {L}", "0x{C+1x} - -", "0{C+1o} - -",
};

static void expand(const char *t, const struct limits *lim, char *out, size_t size)
{
	struct {
		const char *key;
		unsigned long long v;
		const char *fmt;
	} subs[] = {
		{ "{C}", lim->max_channel, "%llu" }, { "{C+1}", lim->max_channel + 1, "%llu" },
		{ "{C-1}", lim->max_channel - 1, "%llu" }, { "{I}", lim->max_id, "%llu" },
		{ "{I+1}", lim->max_id + 1, "%llu" }, { "{I-1}", lim->max_id - 1, "%llu" },
		{ "{L}", lim->max_lun, "%llu" }, { "{L+1}", lim->max_lun + 1, "%llu" },
		{ "{L-1}", lim->max_lun - 1, "%llu" },
		{ "{R}", lim->nrphy ? lim->rphy_ids[0] : 0, "%llu" },
		{ "{C+1x}", lim->max_channel + 1, "%llx" },
		{ "{C+1o}", lim->max_channel + 1, "%llo" },
	};
	size_t o = 0;
	unsigned int i;

	while (*t && o + 24 < size) {
		for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
			if (!strncmp(t, subs[i].key, strlen(subs[i].key)))
				break;
		if (i < sizeof(subs) / sizeof(subs[0])) {
			o += (size_t)snprintf(out + o, size - o, subs[i].fmt, subs[i].v);
			t += strlen(subs[i].key);
		} else {
			out[o++] = *t++;
		}
	}
	out[o] = '\0';
}

/* A number near a boundary, in decimal, hex or octal. */
static void rnd_number(const struct limits *lim, char *out, size_t size)
{
	const unsigned long long pick[] = {
		0, 1, 2, 3, lim->max_channel, lim->max_channel + 1, lim->max_id - 1,
		lim->max_id, lim->max_id + 1, lim->max_lun - 1, lim->max_lun,
		lim->max_lun + 1, 0xffffffffULL, 0x100000000ULL, 0x100000001ULL,
		1ULL << 63, ~0ULL, rnd() & 0xffff, rnd(),
		lim->nrphy ? lim->rphy_ids[rnd_below((unsigned int)lim->nrphy)] : 0,
	};
	unsigned long long v = pick[rnd_below(sizeof(pick) / sizeof(pick[0]))];

	switch (rnd_below(4)) {
	case 0:
		snprintf(out, size, "%#llx", v);
		break;
	case 1:
		snprintf(out, size, "0%llo", v);
		break;
	default:
		snprintf(out, size, "%llu", v);
	}
}

/* One random input into @buf; its length. */
static size_t rnd_input(const struct limits *lim, char *buf, size_t size)
{
	static const char soup[] = "0123456789--------   \t\nxXabcdefgz+*?.,:\xa0\xff\x80\xc3";
	size_t n = 0, len, i;

	if (rnd_below(100) == 0) {
		/* long: up to a page, a valid-looking start */
		len = 100 + rnd_below((unsigned int)size - 200);
		n = (size_t)snprintf(buf, size, "- - -");
		while (n < len)
			buf[n++] = soup[rnd_below(sizeof(soup) - 1)];
		return n;
	}
	if (rnd_below(2)) {
		/* byte soup, sometimes with NULs */
		len = rnd_below(24);
		for (i = 0; i < len; i++)
			buf[n++] = rnd_below(40) ? soup[rnd_below(sizeof(soup) - 1)] : '\0';
		return n;
	}
	/* structured: 1-5 fields, odd separators, wildcards, numbers, junk */
	len = 1 + rnd_below(5);
	if (rnd_below(4))
		len = 3;
	for (i = 0; i < len && n + 40 < size; i++) {
		static const char *const sep[] = { " ", " ", " ", "  ", "\t", "\n", "\xa0", "" };
		static const char *const junk[] = { "--", "*", "+1", "-1", "0x", "1-", "- ", "0-" };
		char num[32];
		unsigned int kind = rnd_below(10);

		if (i || rnd_below(8) == 0)
			n += (size_t)snprintf(buf + n, size - n, "%s", sep[rnd_below(8)]);
		if (kind < 4)
			snprintf(num, sizeof(num), "-");
		else if (kind == 4)
			snprintf(num, sizeof(num), "%s", junk[rnd_below(8)]);
		else
			rnd_number(lim, num, sizeof(num));
		n += (size_t)snprintf(buf + n, size - n, "%s", num);
	}
	if (rnd_below(8) == 0)
		buf[n++] = "\n \t\0x"[rnd_below(5)];
	return n;
}

static void read_limits(const char *name, int host, struct limits *lim)
{
	static struct scsi_addr devs[MAX_DEVS];
	char path[128];
	int n, i;

	snprintf(path, sizeof(path), VSAS_CFS "/%s/max_channel", name);
	lim->max_channel = (unsigned long long)read_ll(path);
	snprintf(path, sizeof(path), VSAS_CFS "/%s/max_id", name);
	lim->max_id = (unsigned int)read_ll(path);	/* shost->max_id is unsigned int */
	snprintf(path, sizeof(path), VSAS_CFS "/%s/max_lun", name);
	lim->max_lun = (unsigned long long)read_ll(path);
	lim->nrphy = 0;
	n = host_devices(host, devs, MAX_DEVS);
	for (i = 0; i < n && lim->nrphy < 64; i++)
		if (devs[i].channel == 0 && devs[i].lun == 0)
			lim->rphy_ids[lim->nrphy++] = devs[i].id;
}

/* What a write may change: probes and device life cycle. */
struct snap {
	char devs[8192];
	long long probes, resets, added, removed;
};

static void snap_take(int host, struct snap *s)
{
	static const char *const names[] = { "target_allocs", "slave_allocs", "scan_start",
					     "resets", "devs_added", "devs_removed" };
	long long v[6];

	host_device_string(host, s->devs, sizeof(s->devs));
	vsas_counters(host, names, v, 6);
	s->probes = v[0] + v[1] + v[2];
	s->resets = v[3];
	s->added = v[4];
	s->removed = v[5];
}

/*
 * One write() of @len bytes to @path from a child, so that a request that
 * never returns cannot hang the cell: the bytes written or -1 (*err set), or
 * -2 if the write is still running after @ms.
 */
static ssize_t bad_write(const char *path, const char *buf, size_t len, int *err,
			 unsigned int ms)
{
	struct pollfd pfd;
	ssize_t res[2] = { -1, 0 };
	int pfds[2];
	pid_t pid;

	if (pipe(pfds))
		return -1;
	pid = fork();
	if (pid == 0) {
		int fd = open(path, O_WRONLY);

		close(pfds[0]);
		res[0] = fd < 0 ? -1 : write(fd, buf, len);
		res[1] = res[0] < 0 ? errno : 0;
		if (write(pfds[1], res, sizeof(res)) != (ssize_t)sizeof(res))
			_exit(1);
		_exit(0);
	}
	close(pfds[1]);
	pfd.fd = pfds[0];
	pfd.events = POLLIN;
	if (poll(&pfd, 1, (int)ms) != 1) {
		close(pfds[0]);
		return -2;
	}
	if (read(pfds[0], res, sizeof(res)) != (ssize_t)sizeof(res))
		res[0] = -1;
	close(pfds[0]);
	waitpid(pid, NULL, 0);
	*err = (int)res[1];
	return res[0];
}

/* Input @i: from the table for the first @b->table_n, then random; its length. */
static size_t bad_input(long long i, const struct bad_stats *b, const struct limits *lim,
			char *buf, size_t size)
{
	if (i >= b->table_n)
		return rnd_input(lim, buf, size);
	expand(bad_table[i], lim, buf, size);
	return i == 0 ? 0 : strlen(buf);
}

/* Count the write's outcome; what was wrong with it, or NULL. */
static const char *bad_judge(enum gclass g, ssize_t w, const struct snap *a,
			     const struct snap *b, struct bad_stats *s)
{
	const char *why = NULL;

	if (w <= 0) {
		/* rejected (or an empty write the store never saw) */
		s->rejected++;
		s->rej_valid += g == G_VALID;
		if (strcmp(a->devs, b->devs) || a->probes != b->probes ||
		    a->resets != b->resets || a->added != b->added || a->removed != b->removed)
			why = "rejected but changed something";
		return why;
	}
	s->accepted++;
	s->acc_valid += g == G_VALID;
	if (g == G_SYNTAX)
		why = "accepted though not in the grammar";
	else if (g == G_WRAP)
		why = "accepted: the midlayer truncated it";
	else if (strcmp(a->devs, b->devs) || a->resets != b->resets || a->removed != b->removed)
		why = "scan changed the device set or reset";
	s->acc_syntax += g == G_SYNTAX;
	s->acc_range += g == G_RANGE;
	s->acc_wrap += g == G_WRAP;
	return why;
}

/* Keep an example while the examples stay under 900 bytes of JSON. */
static void bad_example(struct bad_stats *s, const char *buf, size_t len, int err,
			const char *why)
{
	size_t i, esc = 0;
	char num[16];

	s->side += why[0] == 'r' || why[0] == 's';
	if (s->ex_text >= 900 || s->nex >= BAD_EXAMPLES)
		return;
	if (len > sizeof(s->ex[0].input))
		len = sizeof(s->ex[0].input);
	for (i = 0; i < len; i++)	/* printable ASCII as is, the rest as \u00XX */
		esc += (unsigned char)buf[i] >= 0x20 && (unsigned char)buf[i] < 0x7f ? 1 : 6;
	s->ex_text += (s->nex ? 2 : 0) + 35 + esc + (size_t)snprintf(num, sizeof(num), "%d", err) +
		      strlen(why);
	memcpy(s->ex[s->nex].input, buf, len);
	s->ex[s->nex].len = len;
	s->ex[s->nex].err = err;
	s->ex[s->nex].why = why;
	s->nex++;
}

/* A bad input that never returned: it is the note of the record. */
static void __attribute__((noreturn)) bad_stuck(const struct rcell *c, struct figures *f,
						const char *buf, size_t len)
{
	f->note_len = len < sizeof(f->note_bytes) ? len : sizeof(f->note_bytes);
	memcpy(f->note_bytes, buf, f->note_len);
	end_boot_stuck(c, f, NULL);
}

/* Write every input of the cell to @path; the figures into @s. */
static void bad_inputs(const struct rcell *c, struct figures *f, int host, const char *path,
		       const struct limits *lim, struct bad_stats *s)
{
	static char buf[4096];
	struct snap a, b;
	const char *why;
	enum gclass g;
	long long i;
	size_t len;
	ssize_t w;
	int err;

	for (i = 0; i < c->n + s->table_n; i++) {
		len = bad_input(i, s, lim, buf, sizeof(buf));
		g = classify(buf, len, lim);
		s->wrap += g == G_WRAP;
		snap_take(host, &a);
		err = 0;
		w = bad_write(path, buf, len, &err, patience_ms(c));
		if (w == -2)	/* a "valid" request that never returns (an unbounded walk) */
			bad_stuck(c, f, buf, len);
		if (w > 0)	/* what a scan queued on the firmware event queue */
			vsas_devcmd("rel", "flush");
		snap_take(host, &b);
		s->tried++;
		f->ops = s->tried;
		progress(c, f);
		why = bad_judge(g, w, &a, &b, s);
		if (why)
			bad_example(s, buf, len, err, why);
	}
}

static void run_badinput(const struct rcell *c, struct figures *f)
{
	static struct bad_stats s;
	struct limits lim;
	struct loads l;
	char path[96];
	int host;

	memset(&s, 0, sizeof(s));
	host = make_host(c, "rel", NULL);
	if (host < 0) {
		snprintf(f->note, sizeof(f->note), "host creation failed");
		return;
	}
	read_limits("rel", host, &lim);
	snprintf(path, sizeof(path), "/sys/class/scsi_host/host%d/scan", host);
	loads_start(&l, host, -1, 20, MAX_LOADS);	/* lighter: thousands of writes follow */
	vsas_reset_counters(host);
	s.table_n = (long long)(sizeof(bad_table) / sizeof(bad_table[0]));
	bad_inputs(c, f, host, path, &lim, &s);
	loads_stop(&l, f, false);
	f->ops = s.tried;
	f->rounds = 1;
	compare_devices("rel", host, f);
	take_counters(host, f);
	vsas_destroy("rel");
	leaks_count(f);
	emit_figures(c, f, &s);
}

static void run_cell(struct rcell *c)
{
	struct figures f;

	memset(&f, 0, sizeof(f));
	rng = c->seed ? c->seed : 1;
	kmsg("cell begin %s\n", c->id);
	f.kmemleak = leaks_clear();
	if (!strcmp(c->kind, "badinput")) {
		run_badinput(c, &f);
		kmsg("cell end %s\n", c->id);
		return;
	}
	if (!strcmp(c->kind, "remove") || !strcmp(c->kind, "rmmod"))
		run_removals(c, &f);
	else if (!strcmp(c->kind, "nomem"))
		run_nomem(c, &f);
	else
		run_rounds(c, &f);
	leaks_count(&f);
	emit_figures(c, &f, NULL);
	kmsg("cell end %s\n", c->id);
}

/* One line of REL_FILE: 1 (go on), or -1 for a bad line. */
static int reliability_line(const char *line)
{
	static const char *const kinds[] = { "writers", "delete", "hotplug", "rpm", "rpmadd",
					     "remove", "rmmod", "badinput", "reset", "nomem" };
	struct rcell c = { .rounds = 1 };
	const struct cell_key keys[] = {
		CELL_STR_KEY("cell", c.id, true), CELL_STR_KEY("pers", c.pers, true),
		CELL_STR_KEY("kind", c.kind, true), CELL_STR_KEY("topo", c.topo, false),
		CELL_STR_KEY("set", c.set, false), CELL_STR_KEY("reqs", c.reqs, false),
		CELL_INT_KEY("k", &c.k, 0, 1000, false),
		CELL_INT_KEY("rounds", &c.rounds, 0, 1000000, false),
		CELL_INT_KEY("n", &c.n, 0, 10000000, false), CELL_ULL_KEY("seed", &c.seed, false),
	};
	char err[160];
	size_t i;

	if (cell_parse(line, keys, sizeof(keys) / sizeof(keys[0]), 0, err, sizeof(err))) {
		diag("reliability: %s: %.200s", err, line);
		return -1;
	}
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]) && strcmp(c.kind, kinds[i]); i++)
		;
	if (i == sizeof(kinds) / sizeof(kinds[0])) {
		diag("reliability: unknown kind=%s: %.200s", c.kind, line);
		return -1;
	}
	if (c.k > MAX_K)
		c.k = MAX_K;
	run_cell(&c);
	return 1;
}

GUEST_CASE_T(reliability, "run the reliability cells listed in " REL_FILE, 0)
{
	return cells_run(REL_FILE, reliability_line);
}
