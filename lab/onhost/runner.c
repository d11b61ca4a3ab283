// SPDX-License-Identifier: GPL-2.0
/*
 * sasscan on a real machine: the guest runner's vsas and matrix cases, run
 * in place, with a guard that refuses to touch any SCSI host that is not a
 * vsas host.
 *
 * This file replaces guest/main.c (which mounts, installs busybox applets and
 * reboots: right for a VM's /init, wrong for a test machine). It is linked
 * with guest/lib.c, guest/vsas_util.c, guest/cases_vsas*.c and
 * guest/cases_matrix.c (never cases_lab.c: scsi_debug and KUnit are the
 * lab's) and with
 *
 *   -Wl,--wrap=open,--wrap=fopen,--wrap=execl
 *
 * so every file the cases open and every shell command they run passes
 * through guard_path() first (see lab/onhost.sh, which builds and runs it):
 *
 *  - a path that resolves (symlinks, /dev nodes through /sys/dev) to a
 *    device below a SCSI host "hostN" is allowed only if
 *    /sys/class/scsi_host/hostN/proc_name starts with "vsas_";
 *  - /dev paths are checked for any access, /sys paths for writes (the
 *    cases read every host's proc_name to find theirs);
 *  - shell commands: every /dev/... and /sys/... path in the command line
 *    (globs expanded) is checked as a write.
 *
 * A refused access fails with EPERM (the command exits 126), is logged to
 * the file named by SASSCAN_ONHOST_LOG, and fails the case it happened in.
 * SASSCAN_MATRIX_FILE replaces the matrix case's /etc/sasscan/matrix.txt.
 *
 * The guard is a seatbelt for the suite's own code, not a sandbox: the
 * cases only ever address hosts they created through vsas's configfs.
 *
 * Usage: sasscan-onhost --yes GLOB[,GLOB...]
 */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <fnmatch.h>
#include <glob.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest.h"

int __real_open(const char *path, int flags, ...);
FILE *__real_fopen(const char *path, const char *mode);
int __wrap_open(const char *path, int flags, ...);
FILE *__wrap_fopen(const char *path, const char *mode);
int __wrap_execl(const char *path, const char *arg, ...);

/* ---- the guard ---- */

/* The SCSI host number a sysfs device path lies below, or -1. */
static int sysfs_host(const char *real)
{
	const char *s = real;
	int host, n;

	if (strncmp(real, "/sys/devices/", 13))
		return -1;
	while ((s = strchr(s, '/'))) {
		s++;
		n = 0;
		if (sscanf(s, "host%d%n", &host, &n) == 1 && n > 0 &&
		    (s[n] == '/' || s[n] == '\0'))
			return host;
	}
	return -1;
}

/*
 * The SCSI host a path belongs to, or -1: the longest existing prefix is
 * resolved; a device node is looked up through /sys/dev.
 */
static int path_host(const char *path)
{
	char buf[PATH_MAX], real[PATH_MAX], *slash;
	struct stat st;

	snprintf(buf, sizeof(buf), "%s", path);
	while (!realpath(buf, real)) {
		slash = strrchr(buf, '/');
		if (!slash || slash == buf)
			return -1;
		*slash = '\0';
	}
	if (!strncmp(real, "/dev/", 5) && !stat(real, &st) &&
	    (S_ISBLK(st.st_mode) || S_ISCHR(st.st_mode))) {
		snprintf(buf, sizeof(buf), "/sys/dev/%s/%u:%u",
			 S_ISBLK(st.st_mode) ? "block" : "char",
			 major(st.st_rdev), minor(st.st_rdev));
		if (!realpath(buf, real))
			return -1;
	}
	return sysfs_host(real);
}

static bool host_is_vsas(int host, char *proc_name, size_t size)
{
	char path[64];

	snprintf(path, sizeof(path), "/sys/class/scsi_host/host%d/proc_name", host);
	if (read_str(path, proc_name, size) < 0)
		snprintf(proc_name, size, "?");
	return !strncmp(proc_name, "vsas_", 5);
}

static void refused(const char *what, const char *path, int host,
		    const char *proc_name)
{
	char line[PATH_MAX + 200];
	const char *log = getenv("SASSCAN_ONHOST_LOG");
	int fd;

	snprintf(line, sizeof(line),
		 "onhost: REFUSED %s %s: host%d is '%s', not a vsas host\n",
		 what, path, host, proc_name);
	fprintf(stderr, "%s", line);
	diag("%.*s", (int)strlen(line) - 1, line);
	if (!log)
		return;
	fd = __real_open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	if (write(fd, line, strlen(line)) < 0)
		fprintf(stderr, "onhost: cannot log the refusal\n");
	close(fd);
}

/* true if the access may go ahead */
static bool guard_path(const char *what, const char *path, bool write)
{
	char proc_name[64];
	int host;

	if (!path)
		return true;
	if (strncmp(path, "/dev/", 5) && (!write || strncmp(path, "/sys/", 5)))
		return true;
	host = path_host(path);
	if (host < 0 || host_is_vsas(host, proc_name, sizeof(proc_name)))
		return true;
	refused(what, path, host, proc_name);
	return false;
}

/* Every /dev/... and /sys/... path in a shell command, globs expanded. */
static bool guard_command(const char *cmd)
{
	static const char stop[] = " \t\n;|&<>()'\"`$";
	char path[PATH_MAX];
	const char *s = cmd;
	glob_t g;
	size_t len, i;
	bool ok = true;

	while (*s) {
		if ((strncmp(s, "/dev/", 5) && strncmp(s, "/sys/", 5)) ||
		    (s > cmd && strchr("abcdefghijklmnopqrstuvwxyz"
				       "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./-",
				       s[-1]))) {
			s++;
			continue;
		}
		len = strcspn(s, stop);
		snprintf(path, sizeof(path), "%.*s", (int)len, s);
		s += len;
		if (!strpbrk(path, "*?[")) {
			ok &= guard_path("command", path, true);
			continue;
		}
		if (glob(path, 0, NULL, &g) == 0) {
			for (i = 0; i < g.gl_pathc; i++)
				ok &= guard_path("command", g.gl_pathv[i], true);
			globfree(&g);
		}
	}
	return ok;
}

int __wrap_open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	va_list ap;

	if (flags & (O_CREAT | O_TMPFILE)) {
		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	if (!guard_path("open", path, (flags & O_ACCMODE) != O_RDONLY ||
			(flags & (O_CREAT | O_TRUNC)))) {
		errno = EPERM;
		return -1;
	}
	return __real_open(path, flags, mode);
}

FILE *__wrap_fopen(const char *path, const char *mode)
{
	const char *matrix = getenv("SASSCAN_MATRIX_FILE");

	if (matrix && path && !strcmp(path, "/etc/sasscan/matrix.txt"))
		path = matrix;
	if (!guard_path("fopen", path, mode && strpbrk(mode, "wa+"))) {
		errno = EPERM;
		return NULL;
	}
	return __real_fopen(path, mode);
}

/* guest/lib.c runs commands as execl("/bin/sh", "sh", "-c", cmd, NULL). */
int __wrap_execl(const char *path, const char *arg, ...)
{
	char *argv[16];
	va_list ap;
	int n = 0;

	argv[n++] = (char *)arg;
	va_start(ap, arg);
	while (n < 15 && (argv[n] = va_arg(ap, char *)))
		n++;
	va_end(ap);
	argv[n] = NULL;
	if (n >= 3 && !strcmp(argv[1], "-c") && !guard_command(argv[2]))
		_exit(126);
	return execv(path, argv);
}

/*
 * The guard's own test, run before the cases: every SCSI host that is not a
 * vsas host must be refused (its scan attribute for writing, a shell command
 * writing to it, its disks' device nodes), every vsas host allowed. Refused
 * opens never reach the kernel, so nothing is written.
 */
static int case_onhost_guard(void)
{
	char path[PATH_MAX], cmd[PATH_MAX + 64], proc_name[64];
	int host, fd, others = 0, vsas = 0;
	struct dirent *e;
	bool is_vsas;
	DIR *d;

	unsetenv("SASSCAN_ONHOST_LOG");	/* expected refusals fail nothing */
	d = opendir("/sys/class/scsi_host");
	while (d && (e = readdir(d))) {
		if (sscanf(e->d_name, "host%d", &host) != 1)
			continue;
		is_vsas = host_is_vsas(host, proc_name, sizeof(proc_name));
		snprintf(path, sizeof(path), "/sys/class/scsi_host/host%d/scan", host);
		snprintf(cmd, sizeof(cmd), "echo '- - -' > %s", path);
		if (is_vsas) {
			vsas++;
			CHECK(guard_path("self-test", path, true), "vsas host%d refused", host);
			continue;
		}
		others++;
		fd = __wrap_open(path, O_WRONLY);
		CHECK(fd < 0 && errno == EPERM, "host%d (%s): open for writing not refused",
		      host, proc_name);
		if (fd >= 0)
			close(fd);
		CHECK(!guard_command(cmd), "host%d (%s): shell write not refused", host, proc_name);
	}
	if (d)
		closedir(d);
	d = opendir("/sys/block");
	while (d && (e = readdir(d))) {
		if (strncmp(e->d_name, "sd", 2))
			continue;
		snprintf(path, sizeof(path), "/sys/block/%s", e->d_name);
		host = path_host(path);
		snprintf(path, sizeof(path), "/dev/%s", e->d_name);
		if (host < 0 || !path_exists(path))
			continue;
		is_vsas = host_is_vsas(host, proc_name, sizeof(proc_name));
		CHECK(guard_path("self-test", path, false) == is_vsas,
		      "%s on host%d (%s): guard decision wrong", path, host, proc_name);
	}
	if (d)
		closedir(d);
	diag("guard: %d vsas host(s) allowed, %d other host(s) refused", vsas, others);
	if (!others)
		diag("no SCSI host other than vsas here: refusals not exercised");
	return CASE_RESULT();
}

static struct guest_case guard_case = {
	.name = "onhost_guard",
	.what = "the guard refuses every SCSI host that is not a vsas host",
	.fn = case_onhost_guard,
	.timeout_s = 60,
};

/* ---- the runner ---- */

static long log_size(void)
{
	const char *log = getenv("SASSCAN_ONHOST_LOG");
	struct stat st;

	return log && !stat(log, &st) ? (long)st.st_size : 0;
}

static long refusals_seen;

/* A case during which the guard refused something fails. */
static const char *guard_verdict(void)
{
	long now = log_size();
	bool refused = now != refusals_seen;

	refusals_seen = now;
	return refused ? "refused to touch a SCSI host that is not a vsas host" : NULL;
}

int main(int argc, char **argv)
{
	if (argc != 3 || strcmp(argv[1], "--yes")) {
		fprintf(stderr, "usage: %s --yes GLOB[,GLOB...]\n"
			"runs sasscan's vsas/matrix cases on this machine; "
			"use lab/onhost.sh\n", argv[0]);
		return 2;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "%s: must run as root\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	refusals_seen = log_size();
	return run_cases("on host", argv[2], &guard_case, guard_verdict) ? 1 : 0;
}
