// SPDX-License-Identifier: GPL-2.0
/*
 * sasscan guest runner: /init of the lab's initramfs.
 *
 * Mounts the pseudo file systems, runs the cases named on the kernel command
 * line (sasscan.cases=a,b,glob*), prints TAP (kselftest style) on the console
 * and, as a clean copy, on the second serial port, then ends the VM.
 *
 * Each case is bracketed in the kernel log by "sasscan: begin <n> <name>" and
 * "sasscan: end <n> <name>" so the host can tie kernel splats to the case
 * during which they were printed.
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "guest.h"

static struct guest_case *cases;
static FILE *tap_copy;		/* /dev/ttyS1: TAP only, for the host parser */
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
	char buf[1024], line[1100];
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

void kmsg(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int fd, n;

	n = snprintf(buf, sizeof(buf), "<5>sasscan: ");
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

static void mount_fs(const char *src, const char *dir, const char *type)
{
	mkdir(dir, 0755);
	if (mount(src, dir, type, 0, NULL) && errno != EBUSY)
		fprintf(stderr, "init: mount %s on %s: %s\n", type, dir,
			strerror(errno));
}

static void setup(void)
{
	int fd;

	mount_fs("proc", "/proc", "proc");
	mount_fs("sysfs", "/sys", "sysfs");
	mount_fs("devtmpfs", "/dev", "devtmpfs");
	mount_fs("debugfs", "/sys/kernel/debug", "debugfs");
	mount_fs("configfs", "/sys/kernel/config", "configfs");
	mount_fs("tmpfs", "/tmp", "tmpfs");

	fd = open("/dev/console", O_RDWR);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	tap_copy = fopen("/dev/ttyS1", "w");
	setenv("PATH", "/bin:/sbin:/usr/bin:/usr/sbin", 1);
	/* /bin/sh is in the initramfs; the other applets are linked here */
	if (run("/bin/busybox --install -s /bin") != 0)
		fprintf(stderr, "init: busybox --install failed\n");
}

/* The value of key=... on the kernel command line, or NULL. */
static char *cmdline_value(const char *key, char *buf, size_t size)
{
	char line[4096], *tok, *save;
	size_t klen = strlen(key);

	if (read_str("/proc/cmdline", line, sizeof(line)) < 0)
		return NULL;
	for (tok = strtok_r(line, " ", &save); tok;
	     tok = strtok_r(NULL, " ", &save)) {
		if (!strncmp(tok, key, klen) && tok[klen] == '=') {
			snprintf(buf, size, "%s", tok + klen + 1);
			return buf;
		}
	}
	return NULL;
}

static bool selected(const char *name, const char *sel)
{
	char copy[2048], *tok, *save;

	snprintf(copy, sizeof(copy), "%s", sel);
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save))
		if (!fnmatch(tok, name, 0))
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
static int run_case(struct guest_case *c, const char **why)
{
	struct sigaction sa = { .sa_handler = on_alarm };
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
			*why = "case timed out in the guest";
			return CASE_FAIL;
		}
	}
	alarm(0);
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

static void reap_children(int sig)
{
	(void)sig;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

int main(void)
{
	char sel[2048], line[1200], rel[128];
	int n = 0, i = 0, pass = 0, fail = 0, skip = 0;
	struct guest_case *c;

	setup();
	if (!cmdline_value("sasscan.cases", sel, sizeof(sel)))
		snprintf(sel, sizeof(sel), "lab_*");
	for (c = cases; c; c = c->next)
		n += selected(c->name, sel);

	read_str("/proc/sys/kernel/osrelease", rel, sizeof(rel));
	tap_line("TAP version 13");
	snprintf(line, sizeof(line), "1..%d", n);
	tap_line(line);
	diag("sasscan guest: kernel %s, cases '%s'", rel, sel);

	for (c = cases; c; c = c->next) {
		const char *why = "";
		int r;

		if (!selected(c->name, sel))
			continue;
		i++;
		diag("%s: %s", c->name, c->what);
		kmsg("begin %d %s\n", i, c->name);
		r = run_case(c, &why);
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
	kmsg("done\n");
	signal(SIGCHLD, reap_children);
	sync();
	sleep_ms(200);
	/* The lab kernel has no ACPI; QEMU runs with -no-reboot, so a restart ends the VM. */
	reboot(RB_AUTOBOOT);
	return 0;
}
