// SPDX-License-Identifier: GPL-2.0
/*
 * sasscan case runner: the case registry, TAP output and the loop that runs
 * the selected cases, each in a child process with a time limit. Shared by
 * the VM's /init (main.c) and the on-host runner (lab/onhost/runner.c),
 * which differ only in how they set up and end.
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest.h"

static struct guest_case *cases;
FILE *tap_copy;
int case_failed;

void guest_register(struct guest_case *c)
{
	struct guest_case **p = &cases;

	/* keep the list sorted by name so the order does not depend on linking */
	while (*p && strcmp((*p)->name, c->name) < 0)
		p = &(*p)->next;
	c->next = *p;
	*p = c;
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

void kmsg(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int fd, n;

	n = snprintf(buf, sizeof(buf), "<%d>sasscan: ", kmsg_level);
	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
	va_end(ap);
	fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (write(fd, buf, strlen(buf)) < 0)
		diag("kmsg write failed: %s", strerror(errno));
	close(fd);
}

static bool selected(const struct guest_case *c, const struct guest_case *always,
		     const char *sel)
{
	char copy[2048], *tok, *save;

	if (c == always)
		return true;
	snprintf(copy, sizeof(copy), "%s", sel);
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save))
		if (!fnmatch(tok, c->name, 0))
			return true;
	return false;
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
		_exit(c->fn());
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

int run_cases(const char *label, const char *sel, struct guest_case *always,
	      const char *(*verdict)(void))
{
	int n = 0, i = 0, pass = 0, fail = 0, skip = 0;
	char line[1200], rel[128];
	struct guest_case *c;

	if (always) {
		always->next = cases;
		cases = always;
	}
	for (c = cases; c; c = c->next)
		n += selected(c, always, sel);
	if (read_str("/proc/sys/kernel/osrelease", rel, sizeof(rel)) < 0)
		snprintf(rel, sizeof(rel), "?");
	tap_line("TAP version 13");
	snprintf(line, sizeof(line), "1..%d", n);
	tap_line(line);
	diag("sasscan %s: kernel %s, cases '%s'", label, rel, sel);

	for (c = cases; c; c = c->next) {
		const char *why = "";
		int r;

		if (!selected(c, always, sel))
			continue;
		i++;
		diag("%s: %s", c->name, c->what);
		kmsg("begin %d %s\n", i, c->name);
		r = run_case(c, &why, verdict);
		kmsg("end %d %s\n", i, c->name);
		/* give the console a moment so the end marker precedes the result */
		sleep_ms(50);
		if (r == CASE_PASS) {
			pass++;
			snprintf(line, sizeof(line), "ok %d %s", i, c->name);
		} else if (r == CASE_SKIP) {
			skip++;
			snprintf(line, sizeof(line), "ok %d %s # SKIP", i, c->name);
		} else {
			fail++;
			snprintf(line, sizeof(line), "not ok %d %s%s%s", i,
				 c->name, *why ? " # " : "", why);
		}
		tap_line(line);
	}
	snprintf(line, sizeof(line), "# Totals: pass:%d fail:%d xfail:0 xpass:0 skip:%d error:0",
		 pass, fail, skip);
	tap_line(line);
	return fail;
}
