// SPDX-License-Identifier: GPL-2.0
/* sasscan guest runner: file, command and SCSI helpers for the cases. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "guest.h"

int write_bytes(const char *path, const void *buf, size_t len)
{
	int fd, ret = 0;
	ssize_t n;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, buf, len);
	if (n < 0)
		ret = -errno;
	else if ((size_t)n != len)
		ret = -EIO;
	close(fd);
	return ret;
}

int write_str(const char *path, const char *s)
{
	return write_bytes(path, s, strlen(s));
}

int read_str(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd;

	buf[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return (int)n;
}

long long read_ll(const char *path)
{
	char buf[64], *end;
	long long v;

	if (read_str(path, buf, sizeof(buf)) <= 0)
		return -1;
	errno = 0;
	v = strtoll(buf, &end, 0);
	if (errno || end == buf)
		return -1;
	return v;
}

bool path_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

void sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000,
			       .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static int run_va(bool show, char *out, size_t size, const char *fmt, va_list ap)
{
	char cmd[2048], buf[4096];
	size_t used = 0;
	int pfd[2], status;
	ssize_t n;
	pid_t pid;

	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	if (pipe(pfd))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		close(pfd[0]);
		close(pfd[1]);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	if (out && size)
		out[0] = '\0';
	while ((n = read(pfd[0], buf, sizeof(buf) - 1)) > 0) {
		buf[n] = '\0';
		if (show) {
			diag("%s", buf);
		} else if (out && used + 1 < size) {
			size_t k = (size_t)n < size - used - 1 ? (size_t)n : size - used - 1;

			memcpy(out + used, buf, k);
			used += k;
			out[used] = '\0';
		}
	}
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

int run(const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = run_va(true, NULL, 0, fmt, ap);
	va_end(ap);
	return r;
}

int run_capture(char *out, size_t size, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = run_va(false, out, size, fmt, ap);
	va_end(ap);
	return r;
}

int unload_module(const char *name)
{
	char path[128];
	int tries;

	snprintf(path, sizeof(path), "/sys/module/%s", name);
	/* async sd probing may hold a reference for a moment after a scan */
	for (tries = 0; tries < 100 && path_exists(path); tries++) {
		if (run_capture(NULL, 0, "rmmod %s 2>/dev/null", name) == 0)
			return 0;
		sleep_ms(100);
	}
	if (!path_exists(path))
		return 0;
	return run("rmmod %s", name) ? -EBUSY : 0;
}

int find_hosts(const char *proc_name, int *hosts, int max)
{
	DIR *d = opendir("/sys/class/scsi_host");
	struct dirent *e;
	char path[512], name[64];
	int n = 0, i, j, h;

	if (!d)
		return 0;
	while ((e = readdir(d)) && n < max) {
		if (sscanf(e->d_name, "host%d", &h) != 1)
			continue;
		snprintf(path, sizeof(path), "/sys/class/scsi_host/%s/proc_name",
			 e->d_name);
		if (read_str(path, name, sizeof(name)) < 0 ||
		    strcmp(name, proc_name))
			continue;
		hosts[n++] = h;
	}
	closedir(d);
	for (i = 1; i < n; i++)		/* insertion sort: few hosts */
		for (j = i; j > 0 && hosts[j - 1] > hosts[j]; j--) {
			h = hosts[j];
			hosts[j] = hosts[j - 1];
			hosts[j - 1] = h;
		}
	return n;
}

int find_host(const char *proc_name)
{
	int h;

	return find_hosts(proc_name, &h, 1) == 1 ? h : -1;
}

static int addr_cmp(const void *pa, const void *pb)
{
	const struct scsi_addr *a = pa, *b = pb;

	if (a->channel != b->channel)
		return a->channel < b->channel ? -1 : 1;
	if (a->id != b->id)
		return a->id < b->id ? -1 : 1;
	if (a->lun != b->lun)
		return a->lun < b->lun ? -1 : 1;
	return 0;
}

int host_devices(int host, struct scsi_addr *out, int max)
{
	DIR *d = opendir("/sys/class/scsi_device");
	struct dirent *e;
	struct scsi_addr a;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)) && n < max) {
		if (sscanf(e->d_name, "%u:%u:%u:%llu", &a.host, &a.channel,
			   &a.id, &a.lun) != 4 || a.host != (unsigned int)host)
			continue;
		out[n++] = a;
	}
	closedir(d);
	qsort(out, n, sizeof(*out), addr_cmp);
	return n;
}

void addr_string(struct scsi_addr *a, int n, char *buf, size_t size)
{
	size_t used = 0;
	int i;

	qsort(a, n, sizeof(*a), addr_cmp);
	buf[0] = '\0';
	for (i = 0; i < n && used < size; i++)
		used += snprintf(buf + used, size - used, "%s%u:%u:%llu",
				 i ? " " : "", a[i].channel, a[i].id, a[i].lun);
}

void host_device_string(int host, char *buf, size_t size)
{
	static struct scsi_addr devs[MAX_DEVS];

	addr_string(devs, host_devices(host, devs, MAX_DEVS), buf, size);
}

bool wait_devices(int host, const char *want, unsigned int ms)
{
	char have[8192];

	for (;;) {
		host_device_string(host, have, sizeof(have));
		if (!strcmp(have, want))
			return true;
		if (ms < 100)
			return false;
		sleep_ms(100);
		ms -= 100;
	}
}

int host_device_count(int host)
{
	static struct scsi_addr devs[MAX_DEVS];

	return host_devices(host, devs, MAX_DEVS);
}

bool wait_device_count(int host, int want, unsigned int ms)
{
	for (;;) {
		if (host_device_count(host) == want)
			return true;
		if (ms < 50) {
			char have[512];

			host_device_string(host, have, sizeof(have));
			diag("host%d has '%s', want %d devices", host, have, want);
			return false;
		}
		sleep_ms(50);
		ms -= 50;
	}
}

int delete_all_devices(int host)
{
	static struct scsi_addr devs[MAX_DEVS];
	char path[256];
	int n, i, bad = 0;

	n = host_devices(host, devs, MAX_DEVS);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path),
			 "/sys/class/scsi_device/%u:%u:%u:%llu/device/delete",
			 devs[i].host, devs[i].channel, devs[i].id, devs[i].lun);
		if (write_str(path, "1"))
			bad++;
	}
	return bad ? -EIO : 0;
}

int scan_host(int host, const char *req)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/class/scsi_host/host%d/scan", host);
	return write_str(path, req);
}

void device_disk(const struct scsi_addr *a, char *buf, size_t size)
{
	char path[256];
	struct dirent *e;
	DIR *d;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "/sys/class/scsi_device/%u:%u:%u:%llu/device/block",
		 a->host, a->channel, a->id, a->lun);
	d = opendir(path);
	if (!d)
		return;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.') {
			snprintf(buf, size, "%s", e->d_name);
			break;
		}
	closedir(d);
}

bool kunit_suite_passed(const char *suite)
{
	static char ktap[65536];
	char path[256], *line, *save;
	bool ok_seen = false, bad = false;

	snprintf(path, sizeof(path), "/sys/kernel/debug/kunit/%s/results", suite);
	if (read_str(path, ktap, sizeof(ktap)) <= 0) {
		diag("no KUnit results for suite %s", suite);
		return false;
	}
	for (line = strtok_r(ktap, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char nested[1100];

		/* the suite's own KTAP, nested one level as kselftest does */
		snprintf(nested, sizeof(nested), "    %s", line);
		tap_line(nested);
		if (!strncmp(line, "not ok ", 7) || strstr(line, "    not ok "))
			bad = true;
		else if (!strncmp(line, "ok ", 3))
			ok_seen = true;
	}
	return ok_seen && !bad;
}

int kunit_case(const char *suite, const char *module)
{
	if (module && run("modprobe %s", module)) {
		diag("modprobe %s failed", module);
		return CASE_FAIL;
	}
	CHECK(kunit_suite_passed(suite), "KUnit suite %s did not pass", suite);
	if (module)
		run("rmmod %s", module);
	return CASE_RESULT();
}

/* ---- timing, scan writers, verified I/O load (matrix, reliability, bench) ---- */

long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

long long tsc_cycles(void)
{
#if defined(__x86_64__) || defined(__i386__)
	return (long long)__builtin_ia32_rdtsc();
#else
	return 0;
#endif
}

long long now_ms(void)
{
	return now_us() / 1000;
}

int count_words_in(const char *a, const char *b, bool in)
{
	char copy[8192], *w, *save, key[64];
	char padded[8200];
	int n = 0;

	snprintf(copy, sizeof(copy), "%s", a);
	snprintf(padded, sizeof(padded), " %s ", b);
	for (w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		snprintf(key, sizeof(key), " %s ", w);
		if (!!strstr(padded, key) == in)
			n++;
	}
	return n;
}

pid_t writer_start(int host, const char *req, int *rc_fd)
{
	int pfd[2];
	pid_t pid;

	if (pipe(pfd))
		return -1;
	pid = fork();
	if (pid == 0) {
		long long r[3], t0 = now_us(), c0 = tsc_cycles();

		r[0] = scan_host(host, req);
		r[2] = tsc_cycles() - c0;
		r[1] = now_us() - t0;
		if (write(pfd[1], r, sizeof(r)) != sizeof(r))
			_exit(2);
		_exit(0);
	}
	close(pfd[1]);
	*rc_fd = pfd[0];
	return pid;
}

bool writer_wait(pid_t pid, unsigned int ms)
{
	long long end = now_ms() + ms;

	while (now_ms() < end) {
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return true;
		sleep_ms(20);
	}
	return false;
}

int writer_rc(int fd, long long *us, long long *cycles)
{
	long long r[3] = { -9999, -1, -1 };

	if (read(fd, r, sizeof(r)) != sizeof(r))
		r[0] = -9999;
	close(fd);
	if (us)
		*us = r[1];
	if (cycles)
		*cycles = r[2];
	return (int)r[0];
}

char task_state(pid_t pid)
{
	char path[64], buf[256], *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (read_str(path, buf, sizeof(buf)) <= 0)
		return '?';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : '?';
}

static void ioload_child(const char *disk, unsigned int pace_ms, int out)
{
	static unsigned char wbuf[4096] __attribute__((aligned(4096)));
	static unsigned char rbuf[4096] __attribute__((aligned(4096)));
	long long ops = 0, errs = 0, corrupt = 0, res[3];
	unsigned int blk = 0, i;
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/dev/%s", disk);
	/*
	 * The disk's sysfs name appears before its node can be opened
	 * (ENOENT, then ENXIO until the block device is added): not an I/O
	 * error yet.
	 */
	for (i = 0; (fd = open(path, O_RDWR | O_DIRECT | O_SYNC)) < 0 && i < 100 &&
	     (errno == ENOENT || errno == ENXIO); i++)
		sleep_ms(100);
	if (fd < 0) {
		errs++;
		diag("load on %s: open: %s", disk, strerror(errno));
	}
	while (fd >= 0 && getppid() != 1) {
		off_t off = (off_t)(blk % 1024) * 4096;
		const char *failed = NULL;

		for (i = 0; i < sizeof(wbuf); i += 8)
			memcpy(wbuf + i, &(long long){ ops * 131 + i }, 8);
		if (pwrite(fd, wbuf, sizeof(wbuf), off) != (ssize_t)sizeof(wbuf))
			failed = "pwrite";
		else if (pread(fd, rbuf, sizeof(rbuf), off) != (ssize_t)sizeof(rbuf))
			failed = "pread";
		else if (memcmp(wbuf, rbuf, sizeof(wbuf)))
			corrupt++;
		/* the first failure says what failed, for the console */
		if (failed && !errs++)
			diag("load on %s: %s of block %u: %s", disk, failed, blk % 1024,
			     strerror(errno));
		ops++;
		blk++;
		if (pace_ms)
			sleep_ms(pace_ms);
		if (access("/tmp/ioload.stop", F_OK) == 0)
			break;
	}
	res[0] = ops;
	res[1] = errs;
	res[2] = corrupt;
	if (write(out, res, sizeof(res)) != sizeof(res))
		_exit(2);
	_exit(0);
}

int ioload_start(struct ioload *io, const char *disk, unsigned int pace_ms)
{
	int pfd[2];

	unlink("/tmp/ioload.stop");
	if (pipe(pfd))
		return -1;
	io->pid = fork();
	if (io->pid == 0) {
		close(pfd[0]);
		ioload_child(disk, pace_ms, pfd[1]);
	}
	close(pfd[1]);
	io->fd = pfd[0];
	return io->pid > 0 ? 0 : -1;
}

void ioload_stop(struct ioload *io, long long res[3])
{
	int fd = open("/tmp/ioload.stop", O_CREAT | O_WRONLY, 0600);

	if (fd >= 0)
		close(fd);
	res[0] = -1;
	res[1] = -1;
	res[2] = -1;
	if (read(io->fd, res, 3 * sizeof(long long)) != 3 * (ssize_t)sizeof(long long))
		res[1] = -1;
	close(io->fd);
	waitpid(io->pid, NULL, 0);
}

bool glob_list_match(const char *globs, const char *name)
{
	char copy[2048], *tok, *save;
	bool hit = false;

	if (!globs)
		return false;
	snprintf(copy, sizeof(copy), "%s", globs);
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (tok[0] == '!') {
			if (!fnmatch(tok + 1, name, 0))
				return false;
		} else if (!fnmatch(tok, name, 0)) {
			hit = true;
		}
	}
	return hit;
}

/* ---- JSON records ---- */

void jrec_init(struct jrec *r, const char *tag)
{
	r->tag = tag;
	r->len = 0;
	r->depth = 0;
	r->comma = false;
	r->overflow = false;
	r->bad_nesting = false;
	r->buf[0] = '\0';
	jrec_begin(r, NULL, '{');
}

static void jrec_put(struct jrec *r, const char *s, size_t n)
{
	if (r->overflow || n >= sizeof(r->buf) - r->len) {
		r->overflow = true;
		return;
	}
	memcpy(r->buf + r->len, s, n);
	r->len += n;
	r->buf[r->len] = '\0';
}

static void jrec_putf(struct jrec *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void jrec_putf(struct jrec *r, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		r->overflow = true;	/* only numbers come here */
	else
		jrec_put(r, tmp, (size_t)n);
}

/* A JSON string of @n bytes of @s; @ascii: escape all but printable ASCII. */
static void jrec_quote(struct jrec *r, const char *s, size_t n, bool ascii)
{
	size_t i;

	jrec_put(r, "\"", 1);
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '"' || ch == '\\')
			jrec_putf(r, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f || (ascii && ch > 0x7f))
			jrec_putf(r, "\\u%04x", ch);
		else
			jrec_put(r, (const char *)&ch, 1);
	}
	jrec_put(r, "\"", 1);
}

/* The separator and "key": of the next member. */
static void jrec_key(struct jrec *r, const char *key)
{
	if (r->comma)
		jrec_put(r, ", ", 2);
	r->comma = true;
	if (r->depth > 0 && (r->close[r->depth - 1] == '}') != !!key)
		r->bad_nesting = true;	/* a key in an array or none in an object */
	if (key) {
		jrec_quote(r, key, strlen(key), false);
		jrec_put(r, ": ", 2);
	}
}

void jrec_int(struct jrec *r, const char *key, long long v)
{
	jrec_key(r, key);
	jrec_putf(r, "%lld", v);
}

void jrec_uint(struct jrec *r, const char *key, unsigned long long v)
{
	jrec_key(r, key);
	jrec_putf(r, "%llu", v);
}

void jrec_double(struct jrec *r, const char *key, double v, int precision)
{
	char tmp[400];

	jrec_key(r, key);
	if (!isfinite(v)) {
		jrec_put(r, "null", 4);
		return;
	}
	if (precision < 0)
		precision = 0;
	if (precision > 17)
		precision = 17;
	/* a double's %f has at most 309 digits before the point */
	snprintf(tmp, sizeof(tmp), "%.*f", precision, v);
	jrec_put(r, tmp, strlen(tmp));
}

void jrec_bool(struct jrec *r, const char *key, bool v)
{
	jrec_key(r, key);
	jrec_put(r, v ? "true" : "false", v ? 4 : 5);
}

void jrec_strn(struct jrec *r, const char *key, const char *s, size_t max)
{
	jrec_key(r, key);
	jrec_quote(r, s, strnlen(s, max), false);
}

void jrec_str(struct jrec *r, const char *key, const char *s)
{
	jrec_key(r, key);
	jrec_quote(r, s, strlen(s), false);
}

void jrec_bytes(struct jrec *r, const char *key, const void *buf, size_t len)
{
	jrec_key(r, key);
	jrec_quote(r, buf, len, true);
}

void jrec_int_array(struct jrec *r, const char *key, const long long *v, size_t n)
{
	size_t i;

	jrec_begin(r, key, '[');
	for (i = 0; i < n; i++)
		jrec_int(r, NULL, v[i]);
	jrec_end(r);
}

void jrec_begin(struct jrec *r, const char *key, char open)
{
	if (r->depth > 0)
		jrec_key(r, key);
	if (r->depth >= JREC_DEPTH || (open != '{' && open != '[')) {
		r->bad_nesting = true;
		return;
	}
	r->close[r->depth++] = open == '{' ? '}' : ']';
	jrec_put(r, &open, 1);
	r->comma = false;
}

void jrec_end(struct jrec *r)
{
	if (r->depth <= 1) {	/* the record's own object is closed by jrec_json() */
		r->bad_nesting = true;
		return;
	}
	jrec_put(r, &r->close[--r->depth], 1);
	r->comma = true;
}

const char *jrec_json(struct jrec *r, const char **why)
{
	if (r->depth == 1 && !r->bad_nesting) {
		jrec_put(r, "}", 1);
		r->depth = 0;
	} else if (r->depth != 0) {
		r->bad_nesting = true;
	}
	if (r->overflow) {
		*why = "overflow";
		return NULL;
	}
	if (r->bad_nesting) {
		*why = "bad nesting";
		return NULL;
	}
	return r->buf;
}

int jrec_emit(struct jrec *r)
{
	const char *why, *json = jrec_json(r, &why);
	size_t size = strlen(r->tag) + r->len + 4;
	char *line;

	if (!json) {
		diag("%s record not printed: %s (%zu of %d bytes used)", r->tag, why, r->len,
		     JREC_SIZE);
		case_failed = 1;
		return -1;
	}
	line = malloc(size);
	if (!line) {
		diag("%s record not printed: out of memory", r->tag);
		return -1;
	}
	/* not through diag(): a record may be longer than a diagnostic line */
	snprintf(line, size, "# %s %s", r->tag, json);
	tap_line(line);
	free(line);
	return 0;
}

/* ---- cell lines ---- */

static const struct cell_key *cell_key_find(const struct cell_key *keys, size_t nkeys,
					    const char *key, size_t klen)
{
	size_t i;

	for (i = 0; i < nkeys; i++)
		if (strlen(keys[i].key) == klen && !strncmp(keys[i].key, key, klen))
			return &keys[i];
	return NULL;
}

/* Store @val (NUL-terminated) by @k; 0, or -1 with the reason in @err. */
static int cell_store(const struct cell_key *k, const char *val, char *err, size_t errsize)
{
	unsigned long long u;
	long long v;
	char *end;

	if (k->type == CELL_STR) {
		if (strlen(val) >= k->size) {
			snprintf(err, errsize, "value of %s= too long (%zu bytes, at most %zu)",
				 k->key, strlen(val), k->size - 1);
			return -1;
		}
		memcpy(k->dst, val, strlen(val) + 1);
		return 0;
	}
	errno = 0;
	if (k->type == CELL_ULL) {
		u = strtoull(val, &end, 0);
		if (!*val || *end || errno || val[strspn(val, " \t")] == '-') {
			snprintf(err, errsize, "%s=%.40s is not an unsigned number", k->key, val);
			return -1;
		}
		*(unsigned long long *)k->dst = u;
		return 0;
	}
	v = strtoll(val, &end, 0);
	if (!*val || *end || errno) {
		snprintf(err, errsize, "%s=%.40s is not a number", k->key, val);
		return -1;
	}
	if (k->type == CELL_BOOL) {
		if (v != 0 && v != 1) {
			snprintf(err, errsize, "%s=%.40s is not 0 or 1", k->key, val);
			return -1;
		}
		*(bool *)k->dst = v;
		return 0;
	}
	if ((k->min || k->max) && (v < k->min || v > k->max)) {
		snprintf(err, errsize, "%s=%lld is out of range %lld..%lld", k->key, v, k->min,
			 k->max);
		return -1;
	}
	if (v < -2147483647LL - 1 || v > 2147483647LL) {
		snprintf(err, errsize, "%s=%lld does not fit an int", k->key, v);
		return -1;
	}
	*(int *)k->dst = (int)v;
	return 0;
}

/* One word "key=value" of a cell line; *@seen is a bit set of keys met. */
static int cell_word(const char *w, size_t wlen, const struct cell_key *keys, size_t nkeys,
		     int flags, unsigned long long *seen, char *err, size_t errsize)
{
	const char *eq = memchr(w, '=', wlen);
	const struct cell_key *k;
	char val[1024];

	if (!eq || eq == w) {
		snprintf(err, errsize, "'%.*s' is not key=value", (int)(wlen > 40 ? 40 : wlen), w);
		return -1;
	}
	k = cell_key_find(keys, nkeys, w, (size_t)(eq - w));
	if (!k) {
		snprintf(err, errsize, "unknown key '%.*s'", (int)(eq - w > 40 ? 40 : eq - w), w);
		if (flags & CELL_STRICT)
			return -1;
		diag("cell line: %s ignored", err);
		err[0] = '\0';
		return 0;
	}
	if (*seen & (1ULL << (k - keys))) {
		snprintf(err, errsize, "key %s= given twice", k->key);
		return -1;
	}
	*seen |= 1ULL << (k - keys);
	if (wlen - (size_t)(eq + 1 - w) >= sizeof(val)) {
		snprintf(err, errsize, "value of %s= too long", k->key);
		return -1;
	}
	memcpy(val, eq + 1, wlen - (size_t)(eq + 1 - w));
	val[wlen - (size_t)(eq + 1 - w)] = '\0';
	return cell_store(k, val, err, errsize);
}

int cell_parse(const char *line, const struct cell_key *keys, size_t nkeys, int flags,
	       char *err, size_t errsize)
{
	static const char blanks[] = " \t\r\n";
	unsigned long long seen = 0;
	const char *p = line;
	size_t i, n;

	err[0] = '\0';
	if (nkeys > 64) {
		snprintf(err, errsize, "too many keys");
		return -1;
	}
	for (p += strspn(p, blanks); *p; p += n + strspn(p + n, blanks)) {
		n = strcspn(p, blanks);
		if (cell_word(p, n, keys, nkeys, flags, &seen, err, errsize))
			return -1;
	}
	for (i = 0; i < nkeys; i++)
		if (keys[i].required && !(seen & (1ULL << i))) {
			snprintf(err, errsize, "required key %s= missing", keys[i].key);
			return -1;
		}
	return 0;
}
