/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sasscan guest runner: the API shared by /init (main.c) and the test cases.
 *
 * A case is a function registered with GUEST_CASE(); it returns CASE_PASS,
 * CASE_FAIL or CASE_SKIP and prints diagnostics with diag(). Each case runs
 * in a child process so that a crash or a hang of one case cannot take the
 * runner with it.
 */
#ifndef SASSCAN_GUEST_H
#define SASSCAN_GUEST_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

enum case_result { CASE_PASS = 0, CASE_FAIL = 1, CASE_SKIP = 2 };

struct guest_case {
	const char *name;
	const char *what;	/* one line: what the case shows */
	int (*fn)(void);
	unsigned int timeout_s;	/* 0: no guest-side limit (the host's applies) */
	struct guest_case *next;
	/* a parameterised case (GUEST_CASE_PARAM) runs pfn(param) instead of fn */
	int (*pfn)(const void *param);
	const void *param;
};

void guest_register(struct guest_case *c);
/* The registered cases, in the order they run (follow ->next). */
const struct guest_case *guest_cases(void);

/*
 * Run the registered cases whose names match a glob of @sel (comma-separated)
 * plus @always if not NULL; print TAP. @verdict, if not NULL, is asked after
 * each case and fails it with the reason it returns. Returns the failures.
 */
int run_cases(const char *label, const char *sel, struct guest_case *always,
	      const char *(*verdict)(void));
/* If set, every TAP line is also written here (the VM's clean TAP channel). */
extern FILE *tap_copy;
/*
 * Globs (comma-separated, like @sel) of the cases expected to fail, or NULL.
 * Such a case that fails is "ok N name # XFAIL <reason>", one that passes
 * "not ok N name # XPASS expected to fail but passed" (kselftest's wording).
 */
extern const char *case_xfail;

/*
 * Does @name match one of the comma-separated fnmatch() globs of @globs, and
 * none of those written "!glob" (which exclude, wherever they stand)?
 */
bool glob_list_match(const char *globs, const char *name);

enum tap_kind { TAP_PASS, TAP_FAIL, TAP_SKIP, TAP_XFAIL, TAP_XPASS };
/*
 * The TAP result line of case @n @name into @buf: @result is a CASE_*
 * value, @xfail whether the case is expected to fail, @why the runner's
 * reason for a failure ("" or NULL: none) and @first the case's first
 * failure diagnostic (NULL: none). Returns the kind, for the totals.
 */
enum tap_kind tap_result(char *buf, size_t size, int n, const char *name, int result,
			 bool xfail, const char *why, const char *first);

#define GUEST_CASE_T(id, desc, tmo)					\
	static int case_##id(void);					\
	static struct guest_case gc_##id = {				\
		.name = #id, .what = desc, .fn = case_##id,		\
		.timeout_s = tmo,					\
	};								\
	__attribute__((constructor)) static void reg_##id(void)	\
	{ guest_register(&gc_##id); }					\
	static int case_##id(void)

#define DEFAULT_CASE_TIMEOUT 300
#define GUEST_CASE(id, desc) GUEST_CASE_T(id, desc, DEFAULT_CASE_TIMEOUT)

/*
 * One case per row of an array, like KUnit's KUNIT_ARRAY_PARAM: at start-up
 * @desc(row, check, name, what, size) is asked for every row of @table; if
 * it returns true it has written the case's name and one-line description
 * (@size bytes each) and a case is registered that runs @fn(row), with the
 * default time limit. @check is a bare word, used once per source file.
 */
struct guest_param {
	const char *check;
	const void *table;
	size_t count, row_size;
	bool (*desc)(const void *row, const char *check, char *name, char *what, size_t size);
	int (*fn)(const void *row);
};

void guest_register_param(const struct guest_param *gp);

#define GUEST_CASE_PARAM(check, fn, table, desc)				\
	static const struct guest_param gpar_##check = {			\
		#check, table, sizeof(table) / sizeof((table)[0]),		\
		sizeof((table)[0]), desc, fn,					\
	};								\
	__attribute__((constructor)) static void regp_##check(void)	\
	{ guest_register_param(&gpar_##check); }

/* Output: "# ..." diagnostic lines, on the console and the TAP channel. */
void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * A measurement record "# TAG {json}" for the host's analysis, built member
 * by member: jrec_init(), then members (@key NULL inside an array), then
 * jrec_emit(). Strings are escaped (" and \ with a backslash, control
 * characters as \u00XX). The JSON text is at most JREC_SIZE - 1 bytes; a
 * record that does not fit, or whose nesting is wrong, is not printed:
 * jrec_emit() prints a diagnostic instead, fails the case and returns -1.
 */
#define JREC_SIZE 6144
#define JREC_DEPTH 8
struct jrec {
	const char *tag;
	size_t len;
	int depth;
	bool comma, overflow, bad_nesting;
	char close[JREC_DEPTH];
	char buf[JREC_SIZE];
};

void jrec_init(struct jrec *r, const char *tag);
void jrec_int(struct jrec *r, const char *key, long long v);
void jrec_uint(struct jrec *r, const char *key, unsigned long long v);
/* "%.*f" of @v; null if it is not finite (JSON has no NaN). */
void jrec_double(struct jrec *r, const char *key, double v, int precision);
void jrec_bool(struct jrec *r, const char *key, bool v);
void jrec_str(struct jrec *r, const char *key, const char *s);
/* At most @max bytes of @s (what "%.<max>s" printed). */
void jrec_strn(struct jrec *r, const char *key, const char *s, size_t max);
/* @len raw bytes (NULs too), every byte outside printable ASCII as \u00XX. */
void jrec_bytes(struct jrec *r, const char *key, const void *buf, size_t len);
void jrec_int_array(struct jrec *r, const char *key, const long long *v, size_t n);
/* A nested object ('{') or array ('['), closed by jrec_end(). */
void jrec_begin(struct jrec *r, const char *key, char open);
void jrec_end(struct jrec *r);
/* The finished JSON text, or NULL (and a reason in @why) if it is broken. */
const char *jrec_json(struct jrec *r, const char **why);
/* Print "# TAG {json}" on both channels; 0, or -1 if it is broken. */
int jrec_emit(struct jrec *r);

/*
 * Cell lines (docs/lab.md, "Cell lines and records"): "key=value" words
 * separated by blanks. cell_parse() fills the keys of @keys that are on
 * @line and leaves the others as they are. A word that is not key=value,
 * a key twice, a missing required key, a number that does not parse or is
 * out of range, or a value too long for its buffer is an error: -1 with the
 * reason in @err. A key not in @keys is an error with CELL_STRICT, else a
 * warning (diagnostic) and ignored.
 */
enum cell_type { CELL_STR, CELL_INT, CELL_ULL, CELL_BOOL };
struct cell_key {
	const char *key;
	enum cell_type type;
	void *dst;		/* char[size], int, unsigned long long, bool */
	size_t size;
	bool required;
	long long min, max;	/* CELL_INT */
};

#define CELL_STR_KEY(k, buf, req) \
	{ .key = k, .type = CELL_STR, .dst = buf, .size = sizeof(buf), .required = req }
#define CELL_INT_KEY(k, ptr, lo, hi, req) \
	{ .key = k, .type = CELL_INT, .dst = ptr, .min = lo, .max = hi, .required = req }
#define CELL_ULL_KEY(k, ptr, req) { .key = k, .type = CELL_ULL, .dst = ptr, .required = req }
#define CELL_BOOL_KEY(k, ptr, req) { .key = k, .type = CELL_BOOL, .dst = ptr, .required = req }
#define CELL_STRICT 1
int cell_parse(const char *line, const struct cell_key *keys, size_t nkeys, int flags,
	       char *err, size_t errsize);
/* A raw line on both channels (used for nested KTAP). */
void tap_line(const char *line);
/*
 * A line into the kernel log (/dev/kmsg), so it is ordered with kernel
 * messages; at kmsg_level (default 5, notice).
 */
void kmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
extern int kmsg_level;
/* Where kmsg() writes: /dev/kmsg (the unit test points it elsewhere). */
extern const char *kmsg_dev;

/* Checks: print a diagnostic and remember the failure, but go on. */
extern int case_failed;
void check_failed(const char *file, int line, const char *cond, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
#define CHECK(cond, ...)						\
	do {								\
		if (!(cond))						\
			check_failed(__FILE__, __LINE__, #cond, __VA_ARGS__); \
	} while (0)
static inline int case_result(void)
{
	if (case_failed)
		return CASE_FAIL;
	return CASE_PASS;
}

#define CASE_RESULT() case_result()

/* Files. write_str() returns 0 or -errno of the write (sysfs store result). */
int write_str(const char *path, const char *s);
int write_bytes(const char *path, const void *buf, size_t len);
int read_str(const char *path, char *buf, size_t size);	/* trims trailing \n */
long long read_ll(const char *path);			/* -1 on error */
bool path_exists(const char *path);

/* Commands through busybox sh; output shown as diagnostics. Returns exit status. */
int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Same, output captured (NUL-terminated, truncated to size; discarded if out is NULL). */
int run_capture(char *out, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

void sleep_ms(unsigned int ms);
/* CLOCK_MONOTONIC in microseconds / milliseconds. */
long long now_us(void);
long long now_ms(void);
/*
 * The CPU's time stamp counter (0 where there is none). Under QEMU TCG the
 * kernel marks the TSC unstable and CLOCK_MONOTONIC ticks in jiffies (4 ms);
 * the TSC still runs at a constant rate, calibrate it against the clock.
 */
long long tsc_cycles(void);
/* rmmod @name, retrying while it is busy for up to 10 s; 0 once it is gone. */
int unload_module(const char *name);

/* SCSI helpers. */
#define MAX_DEVS 4096
struct scsi_addr {
	unsigned int host, channel, id;
	unsigned long long lun;
};

/* Host number of the first host whose proc_name is @proc_name, or -1. */
int find_host(const char *proc_name);
/* All hosts whose proc_name is @proc_name; returns count. */
int find_hosts(const char *proc_name, int *hosts, int max);
/* Devices of @host, sorted by (channel, id, lun); returns count. */
int host_devices(int host, struct scsi_addr *out, int max);
/* Sort @a by (channel, id, lun) and write it as "c:t:l c:t:l ...". */
void addr_string(struct scsi_addr *a, int n, char *buf, size_t size);
/* "c:t:l c:t:l ..." of @host's devices, for comparisons and messages. */
void host_device_string(int host, char *buf, size_t size);
/* Wait until host_device_string() equals @want (up to @ms); true if it did. */
bool wait_devices(int host, const char *want, unsigned int ms);
/* Number of devices of @host. */
int host_device_count(int host);
/* Wait until @host has @want devices (up to @ms); diag and false if not. */
bool wait_device_count(int host, int want, unsigned int ms);
/* Delete every scsi_device of @host through its "delete" attribute. */
int delete_all_devices(int host);
/* Write @req to /sys/class/scsi_host/host<N>/scan; 0 or -errno. */
int scan_host(int host, const char *req);
/* The sd disk name (e.g. "sda") bound to a device, or "" if none. */
void device_disk(const struct scsi_addr *a, char *buf, size_t size);

/* KUnit: print a suite's KTAP (from debugfs) indented as a subtest; true if it passed. */
bool kunit_suite_passed(const char *suite);
/*
 * A case's verdict on KUnit suite @suite: load @module first (NULL: the suite
 * is built in) and unload it after.
 */
int kunit_case(const char *suite, const char *module);

/* Count the words of @a that are (or are not) in @b (space-separated lists). */
int count_words_in(const char *a, const char *b, bool in);
/*
 * A child that writes @req to host @host's scan attribute; its result comes
 * through *@rc_fd. writer_wait() reaps it within @ms (true if it ended);
 * writer_rc() returns the write's rc (-9999 if it reported none), closes @fd
 * and stores the write's duration measured in the child in *@us
 * (CLOCK_MONOTONIC) and *@cycles (TSC); either may be NULL.
 */
pid_t writer_start(int host, const char *req, int *rc_fd);
bool writer_wait(pid_t pid, unsigned int ms);
int writer_rc(int fd, long long *us, long long *cycles);
/* State letter of a task from /proc/<pid>/stat (R, S, D, ...), '?' if gone. */
char task_state(pid_t pid);

/*
 * Verified I/O load: a child writes numbered 4 KiB blocks in a 4 MiB window
 * of /dev/@disk and reads each back (O_DIRECT), counting failed I/O and
 * corrupt blocks, pausing @pace_ms between blocks, until ioload_stop(); it
 * reports "io_ops io_errors corrupt" through a pipe. Several may run at once.
 */
struct ioload {
	pid_t pid;
	int fd;
};

int ioload_start(struct ioload *io, const char *disk, unsigned int pace_ms);
void ioload_stop(struct ioload *io, long long res[3]);

#endif
