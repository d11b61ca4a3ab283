// SPDX-License-Identifier: GPL-2.0
/*
 * sasscan case runner: the case registry, TAP output and the loop that runs
 * the selected cases, each in a child process with a time limit. Shared by
 * the VM's /init (main.c) and the on-host runner (lab/onhost/runner.c),
 * which differ only in how they set up and end.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest.h"

static struct guest_case *cases;
FILE *tap_copy;
int case_failed;
const char *case_xfail;

void guest_register(struct guest_case *c)
{
	struct guest_case **p = &cases;

	/* keep the list sorted by name so the order does not depend on linking */
	while (*p && strcmp((*p)->name, c->name) < 0)
		p = &(*p)->next;
	c->next = *p;
	*p = c;
}

void guest_register_param(const struct guest_param *gp)
{
	char name[256], what[256];
	size_t i;

	for (i = 0; i < gp->count; i++) {
		const void *row = (const char *)gp->table + i * gp->row_size;
		struct guest_case *c;

		if (!gp->desc(row, gp->check, name, what, sizeof(name)))
			continue;
		c = calloc(1, sizeof(*c));
		if (c) {
			c->name = strdup(name);
			c->what = strdup(what);
		}
		if (!c || !c->name || !c->what) {
			fprintf(stderr, "init: no memory for case %s\n", name);
			if (c) {
				free((char *)c->name);
				free((char *)c->what);
			}
			free(c);
			continue;
		}
		c->pfn = gp->fn;
		c->param = row;
		c->timeout_s = DEFAULT_CASE_TIMEOUT;
		guest_register(c);
	}
}

const struct guest_case *guest_cases(void)
{
	return cases;
}

void tap_line(const char *line)
{
	printf("%s\n", line);
	fflush(stdout);
	if (tap_copy) {
		fprintf(tap_copy, "%s\n", line);
		fflush(tap_copy);
	}
}

void diag(const char *fmt, ...)
{
	char buf[4096], line[4200];
	char *s, *nl;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	for (s = buf; s; s = nl) {
		nl = strchr(s, '\n');
		if (nl)
			*nl++ = '\0';
		if (!*s && !nl)
			break;
		snprintf(line, sizeof(line), "# %s", s);
		tap_line(line);
	}
}

int kmsg_level = 5;
const char *kmsg_dev = "/dev/kmsg";

void kmsg(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int fd, n;

	n = snprintf(buf, sizeof(buf), "<%d>sasscan: ", kmsg_level);
	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
	va_end(ap);
	fd = open(kmsg_dev, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (write(fd, buf, strlen(buf)) < 0)
		diag("writing to %s failed: %s", kmsg_dev, strerror(errno));
	close(fd);
}

static bool selected(const struct guest_case *c, const struct guest_case *always,
		     const char *sel)
{
	return c == always || glob_list_match(sel, c->name);
}

/*
 * The first failed CHECK()'s message of the running case, written by the
 * case's child into memory shared with the runner (the XFAIL reason).
 */
#define FIRST_FAIL_SIZE 256
static char *first_fail;

void check_failed(const char *file, int line, const char *cond, const char *fmt, ...)
{
	char msg[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diag("FAIL %s:%d: %s", file, line, cond);
	diag("%s", msg);
	if (first_fail && !first_fail[0])
		snprintf(first_fail, FIRST_FAIL_SIZE, "%.*s", FIRST_FAIL_SIZE - 1,
			 msg[0] ? msg : cond);
	case_failed = 1;
}

/* @s on one line without '#' (a TAP directive's text), at most @size - 1 bytes. */
static void one_line(char *out, size_t size, const char *s)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < size; i++)
		out[i] = (unsigned char)s[i] < 0x20 || s[i] == '#' ? ' ' : s[i];
	out[i] = '\0';
}

enum tap_kind tap_result(char *buf, size_t size, int n, const char *name, int result,
			 bool xfail, const char *why, const char *first)
{
	char reason[FIRST_FAIL_SIZE];

	if (!why)
		why = "";
	if (result == CASE_SKIP) {
		snprintf(buf, size, "ok %d %s # SKIP", n, name);
		return TAP_SKIP;
	}
	if (result == CASE_PASS && xfail) {
		snprintf(buf, size, "not ok %d %s # XPASS expected to fail but passed", n, name);
		return TAP_XPASS;
	}
	if (result == CASE_PASS) {
		snprintf(buf, size, "ok %d %s", n, name);
		return TAP_PASS;
	}
	if (xfail) {
		one_line(reason, sizeof(reason),
			 first && *first ? first : *why ? why : "expected failure");
		snprintf(buf, size, "ok %d %s # XFAIL %s", n, name, reason);
		return TAP_XFAIL;
	}
	snprintf(buf, size, "not ok %d %s%s%s", n, name, *why ? " # " : "", why);
	return TAP_FAIL;
}

static volatile sig_atomic_t alarm_fired;

static void on_alarm(int sig)
{
	(void)sig;
	alarm_fired = 1;
}

/* Run one case in a child; returns its result and sets *why for failures. */
static int run_case(struct guest_case *c, const char **why,
		    const char *(*verdict)(void))
{
	struct sigaction sa = { .sa_handler = on_alarm };
	const char *veto;
	pid_t pid, w;
	int status;

	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		*why = "fork failed";
		return CASE_FAIL;
	}
	if (pid == 0) {
		case_failed = 0;
		_exit(c->pfn ? c->pfn(c->param) : c->fn());
	}
	alarm_fired = 0;
	sigaction(SIGALRM, &sa, NULL);
	alarm(c->timeout_s);
	for (;;) {
		w = waitpid(pid, &status, 0);
		if (w == pid)
			break;
		if (w < 0 && errno == EINTR && alarm_fired) {
			/* a case stuck in D state cannot be killed: report and go on */
			kill(pid, SIGKILL);
			*why = "case timed out";
			return CASE_FAIL;
		}
	}
	alarm(0);
	veto = verdict ? verdict() : NULL;
	if (veto) {
		*why = veto;
		return CASE_FAIL;
	}
	if (WIFSIGNALED(status)) {
		*why = "case crashed";
		return CASE_FAIL;
	}
	if (WEXITSTATUS(status) == CASE_SKIP)
		return CASE_SKIP;
	if (WEXITSTATUS(status) != CASE_PASS) {
		*why = "";
		return CASE_FAIL;
	}
	return CASE_PASS;
}

/* Run case @i (@c) between its kernel-log markers; print its TAP line. */
static enum tap_kind run_one(struct guest_case *c, int i, const char *(*verdict)(void))
{
	const char *why = "";
	char line[1200];
	enum tap_kind k;
	int r;

	if (first_fail)
		first_fail[0] = '\0';
	diag("%s: %s", c->name, c->what);
	kmsg("begin %d %s\n", i, c->name);
	r = run_case(c, &why, verdict);
	kmsg("end %d %s\n", i, c->name);
	/* give the console a moment so the end marker precedes the result */
	sleep_ms(50);
	k = tap_result(line, sizeof(line), i, c->name, r, glob_list_match(case_xfail, c->name),
		       why, first_fail);
	tap_line(line);
	return k;
}

int run_cases(const char *label, const char *sel, struct guest_case *always,
	      const char *(*verdict)(void))
{
	int n = 0, i = 0, count[TAP_XPASS + 1] = { 0 };
	char line[1200], rel[128];
	struct guest_case *c;

	if (always) {
		always->next = cases;
		cases = always;
	}
	if (!first_fail) {
		first_fail = mmap(NULL, FIRST_FAIL_SIZE, PROT_READ | PROT_WRITE,
				  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (first_fail == MAP_FAILED)
			first_fail = NULL;
	}
	for (c = cases; c; c = c->next)
		n += selected(c, always, sel);
	if (read_str("/proc/sys/kernel/osrelease", rel, sizeof(rel)) < 0)
		snprintf(rel, sizeof(rel), "?");
	tap_line("TAP version 13");
	snprintf(line, sizeof(line), "1..%d", n);
	tap_line(line);
	diag("sasscan %s: kernel %s, cases '%s'", label, rel, sel);
	for (c = cases; c; c = c->next)
		if (selected(c, always, sel))
			count[run_one(c, ++i, verdict)]++;
	snprintf(line, sizeof(line),
		 "# Totals: pass:%d fail:%d xfail:%d xpass:%d skip:%d error:0",
		 count[TAP_PASS], count[TAP_FAIL], count[TAP_XFAIL], count[TAP_XPASS],
		 count[TAP_SKIP]);
	tap_line(line);
	return count[TAP_FAIL] + count[TAP_XPASS];
}
