// SPDX-License-Identifier: GPL-2.0
/*
 * sasscan guest runner: /init of the lab's initramfs.
 *
 * Mounts the pseudo file systems, runs the cases named on the kernel command
 * line (sasscan.cases=a,b,glob*), prints TAP (kselftest style) on the console
 * and, as a clean copy, on the second serial port, then ends the VM. Cases
 * matching sasscan.xfail= (same syntax) are expected to fail: XFAIL/XPASS.
 *
 * "init --list" (not as PID 1) prints every registered case and exits.
 *
 * Each case is bracketed in the kernel log by "sasscan: begin <n> <name>" and
 * "sasscan: end <n> <name>" so the host can tie kernel splats to the case
 * during which they were printed.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest.h"

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

static void reap_children(int sig)
{
	(void)sig;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

int main(int argc, char **argv)
{
	char sel[2048], xfail[2048];
	const struct guest_case *c;

	if (getpid() != 1 && argc == 2 && !strcmp(argv[1], "--list")) {
		for (c = guest_cases(); c; c = c->next)
			printf("%s\t%u\t%s\n", c->name, c->timeout_s, c->what);
		return 0;
	}
	setup();
	if (!cmdline_value("sasscan.cases", sel, sizeof(sel)))
		snprintf(sel, sizeof(sel), "lab_*");
	if (cmdline_value("sasscan.xfail", xfail, sizeof(xfail)))
		case_xfail = xfail;
	run_cases("guest", sel, NULL, NULL);
	kmsg("done\n");
	signal(SIGCHLD, reap_children);
	sync();
	sleep_ms(200);
	/* The lab kernel has no ACPI; QEMU runs with -no-reboot, so a restart ends the VM. */
	reboot(RB_AUTOBOOT);
	return 0;
}
