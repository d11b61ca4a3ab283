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
};

void guest_register(struct guest_case *c);

/*
 * Run the registered cases whose names match a glob of @sel (comma-separated)
 * plus @always if not NULL; print TAP. @verdict, if not NULL, is asked after
 * each case and fails it with the reason it returns. Returns the failures.
 */
int run_cases(const char *label, const char *sel, struct guest_case *always,
	      const char *(*verdict)(void));
/* If set, every TAP line is also written here (the VM's clean TAP channel). */
extern FILE *tap_copy;

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

/* Output: "# ..." diagnostic lines, on the console and the TAP channel. */
void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A measurement record "# TAG {json}" for the host's analysis. */
void diag_record(const char *tag, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A raw line on both channels (used for nested KTAP). */
void tap_line(const char *line);
/*
 * A line into the kernel log (/dev/kmsg), so it is ordered with kernel
 * messages; at kmsg_level (default 5, notice).
 */
void kmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
extern int kmsg_level;

/* Checks: print a diagnostic and remember the failure, but go on. */
extern int case_failed;
#define CHECK(cond, ...)						\
	do {								\
		if (!(cond)) {						\
			diag("FAIL %s:%d: %s", __FILE__, __LINE__, #cond); \
			diag(__VA_ARGS__);				\
			case_failed = 1;				\
		}							\
	} while (0)
#define CASE_RESULT() (case_failed ? CASE_FAIL : CASE_PASS)

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
