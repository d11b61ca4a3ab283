// SPDX-License-Identifier: GPL-2.0
/*
 * Unit test of the runner's pure parts, built for the build host under
 * ASan/UBSan by "make sanitize": the JSON records, the cell-line parser,
 * the glob lists and the XFAIL/XPASS result lines. Prints TAP; exits
 * non-zero if a test fails.
 */
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guest.h"

static int tests, failures;

static void ok(bool cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ok(bool cond, const char *fmt, ...)
{
	char name[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	printf("%sok %d %s\n", cond ? "" : "not ", ++tests, name);
	failures += !cond;
}

static void same(const char *have, const char *want, const char *what)
{
	ok(have && !strcmp(have, want), "%s", what);
	if (!have || strcmp(have, want))
		printf("#   have: %s\n#   want: %s\n", have ? have : "(null)", want);
}

/* ---- JSON records ---- */

static const char *json(struct jrec *r)
{
	const char *why;

	return jrec_json(r, &why);
}

static void test_jrec_numbers(void)
{
	static const long long arr[] = { 1, -2, 3 };
	struct jrec r;

	jrec_init(&r, "T");
	jrec_int(&r, "i", -42);
	jrec_uint(&r, "u", 18446744073709551615ULL);
	jrec_double(&r, "d1", 2.25, 1);
	jrec_double(&r, "d0", -1.0, 0);
	jrec_double(&r, "d2", 1.0 / 3, 2);
	jrec_double(&r, "nan", NAN, 1);
	jrec_double(&r, "inf", INFINITY, 1);
	jrec_bool(&r, "t", true);
	jrec_bool(&r, "f", false);
	jrec_int_array(&r, "a", arr, 3);
	jrec_int_array(&r, "e", arr, 0);
	same(json(&r),
	     "{\"i\": -42, \"u\": 18446744073709551615, \"d1\": 2.2, \"d0\": -1, \"d2\": 0.33, \"nan\": null, \"inf\": null, \"t\": true, \"f\": false, \"a\": [1, -2, 3], \"e\": []}",
	     "jrec: numbers, booleans, arrays");
}

static void test_jrec_strings(void)
{
	static const char raw[] = { 'a', '"', 0, '\\', (char)0xff, (char)0xa0, '\n', '~' };
	char state = 'D';
	struct jrec r;

	jrec_init(&r, "T");
	jrec_str(&r, "s", "q\"b\\s/\n\t\x01\x7f\xc3\xa9");
	jrec_strn(&r, "n", "abcdef", 3);
	jrec_strn(&r, "short", "ab", 300);
	jrec_strn(&r, "c", &state, 1);
	jrec_bytes(&r, "b", raw, sizeof(raw));
	jrec_str(&r, "k\"ey", "");
	same(json(&r),
	     "{\"s\": \"q\\\"b\\\\s/\\u000a\\u0009\\u0001\\u007f\xc3\xa9\", \"n\": \"abc\", \"short\": \"ab\", \"c\": \"D\", \"b\": \"a\\\"\\u0000\\\\\\u00ff\\u00a0\\u000a~\", \"k\\\"ey\": \"\"}",
	     "jrec: string escaping, truncation, raw bytes");
}

static void test_jrec_nesting(void)
{
	struct jrec r;
	const char *why = "";

	jrec_init(&r, "T");
	jrec_str(&r, "cell", "x");
	jrec_begin(&r, "opc", '{');
	jrec_int(&r, "0x12", 3);
	jrec_int(&r, "0xa0", 1);
	jrec_end(&r);
	jrec_begin(&r, "ex", '[');
	jrec_begin(&r, NULL, '{');
	jrec_int(&r, "errno", 22);
	jrec_end(&r);
	jrec_begin(&r, NULL, '{');
	jrec_end(&r);
	jrec_end(&r);
	jrec_int(&r, "last", 0);
	same(json(&r),
	     "{\"cell\": \"x\", \"opc\": {\"0x12\": 3, \"0xa0\": 1}, \"ex\": [{\"errno\": 22}, {}], \"last\": 0}",
	     "jrec: nested objects and arrays");

	jrec_init(&r, "T");
	jrec_begin(&r, "open", '[');
	ok(!jrec_json(&r, &why) && !strcmp(why, "bad nesting"), "jrec: unclosed array refused");
	jrec_init(&r, "T");
	jrec_end(&r);
	ok(!jrec_json(&r, &why) && !strcmp(why, "bad nesting"), "jrec: end of the root refused");
	jrec_init(&r, "T");
	jrec_int(&r, NULL, 1);
	ok(!jrec_json(&r, &why), "jrec: member without a key in an object refused");
	jrec_init(&r, "T");
	jrec_begin(&r, "a", '[');
	jrec_int(&r, "k", 1);
	jrec_end(&r);
	ok(!jrec_json(&r, &why), "jrec: member with a key in an array refused");
}

static void test_jrec_overflow(void)
{
	static char big[JREC_SIZE + 10];
	static struct jrec r;
	const char *why = "";
	int fd, null, rc;

	memset(big, 'x', sizeof(big) - 1);
	jrec_init(&r, "T");
	jrec_str(&r, "big", big);
	ok(!jrec_json(&r, &why) && !strcmp(why, "overflow"), "jrec: overflow detected");
	ok(r.len < JREC_SIZE && strlen(r.buf) == r.len, "jrec: buffer intact after overflow");

	/* a string that just fits, then one byte too many */
	jrec_init(&r, "T");
	big[JREC_SIZE - 10] = '\0';	/* {"b": "..."} is 9 bytes around it */
	jrec_str(&r, "b", big);
	ok(json(&r) && r.len == JREC_SIZE - 1, "jrec: a record of JREC_SIZE - 1 fits");
	jrec_init(&r, "T");
	big[JREC_SIZE - 10] = 'x';
	big[JREC_SIZE - 9] = '\0';
	jrec_str(&r, "b", big);
	ok(!json(&r), "jrec: one byte more overflows");

	/* emit: a diagnostic instead of the record, and -1 */
	fflush(stdout);
	fd = dup(1);
	null = open("/dev/null", O_WRONLY);
	dup2(null, 1);
	rc = jrec_emit(&r);
	fflush(stdout);
	dup2(fd, 1);
	close(fd);
	close(null);
	ok(rc == -1 && case_failed, "jrec_emit: overflow returns -1 and fails the case");
	case_failed = 0;
}

/* ---- cell lines ---- */

struct tcell {
	char id[16], kind[8], opts[16];
	int k, ch;
	unsigned long long seed;
	bool full;
};

static int parse(const char *line, struct tcell *c, int flags, char *err, size_t size)
{
	const struct cell_key keys[] = {
		CELL_STR_KEY("cell", c->id, true), CELL_STR_KEY("kind", c->kind, false),
		CELL_STR_KEY("opts", c->opts, false), CELL_INT_KEY("k", &c->k, 0, 16, false),
		CELL_INT_KEY("ch", &c->ch, 0, 0, false), CELL_ULL_KEY("seed", &c->seed, false),
		CELL_BOOL_KEY("full", &c->full, false),
	};

	memset(c, 0, sizeof(*c));
	c->ch = -1;
	return cell_parse(line, keys, sizeof(keys) / sizeof(keys[0]), flags, err, size);
}

static void test_cells_good(void)
{
	struct tcell c;
	char err[160];
	int rc;

	rc = parse("cell=a/-_-_- kind=scan k=3 seed=0x10 full=1 opts=\n", &c, 0, err, sizeof(err));
	ok(rc == 0 && !strcmp(c.id, "a/-_-_-") && !strcmp(c.kind, "scan") && c.k == 3 &&
	   c.seed == 16 && c.full && !c.opts[0] && c.ch == -1, "cells: a good line (%s)", err);
	rc = parse("\t cell=b\tch=-2  k=16 \r\n", &c, 0, err, sizeof(err));
	ok(rc == 0 && !strcmp(c.id, "b") && c.ch == -2 && c.k == 16 && !c.kind[0],
	   "cells: blanks, absent keys keep their defaults (%s)", err);
	rc = parse("cell=x other=1", &c, 0, err, sizeof(err));
	ok(rc == 0 && !strcmp(c.id, "x"), "cells: unknown key ignored (with a warning)");
	rc = parse("cell=123456789012345", &c, 0, err, sizeof(err));
	ok(rc == 0 && !strcmp(c.id, "123456789012345"), "cells: a value that just fits");
	rc = parse("cell=a=b", &c, 0, err, sizeof(err));
	ok(rc == 0 && !strcmp(c.id, "a=b"), "cells: '=' in a value");
}

static void bad(const char *line, int flags, const char *want)
{
	struct tcell c;
	char err[160] = "";
	int rc = parse(line, &c, flags, err, sizeof(err));

	ok(rc == -1 && strstr(err, want), "cells: '%s' refused: %s", line, err);
}

static void test_cells_bad(void)
{
	bad("cell=x junk", 0, "not key=value");
	bad("cell=x =v", 0, "not key=value");
	bad("kind=scan", 0, "required key cell= missing");
	bad("", 0, "required key cell= missing");
	bad("cell=x cell=y", 0, "given twice");
	bad("cell=x k=1x", 0, "not a number");
	bad("cell=x k=", 0, "not a number");
	bad("cell=x k=17", 0, "out of range");
	bad("cell=x ch=99999999999", 0, "does not fit an int");
	bad("cell=x seed=-1", 0, "not an unsigned number");
	bad("cell=x seed=99999999999999999999", 0, "not an unsigned number");
	bad("cell=x full=2", 0, "not 0 or 1");
	bad("cell=1234567890123456", 0, "too long");
	bad("cell=x other=1", CELL_STRICT, "unknown key 'other'");
}

/* ---- glob lists ---- */

static void test_globs(void)
{
	ok(glob_list_match("lab_*", "lab_sdebug_load"), "glob: lab_*");
	ok(!glob_list_match("lab_*", "vsas_plain_scan"), "glob: lab_* misses vsas_");
	ok(glob_list_match("a,vsas_*_scan", "vsas_plain_scan"), "glob: second of a list");
	ok(!glob_list_match("vsas_*_scan", "vsas_plain_scan_x"), "glob: anchored at the end");
	ok(!glob_list_match(NULL, "x") && !glob_list_match("", "x"), "glob: NULL and empty");
	ok(glob_list_match(",,x,", "x"), "glob: empty items");
	ok(glob_list_match("selftest_[fh]*", "selftest_hang"), "glob: brackets");
	ok(!glob_list_match("vsas_*,!vsas_*_data", "vsas_plain_data"), "glob: ! excludes");
	ok(!glob_list_match("!vsas_*_data,vsas_*", "vsas_plain_data"), "glob: ! before the glob");
	ok(glob_list_match("vsas_*,!vsas_*_data", "vsas_plain_scan"), "glob: ! leaves the rest");
	ok(!glob_list_match("!vsas_*_data", "vsas_plain_scan"), "glob: ! alone selects nothing");
}

/* ---- TAP result lines ---- */

static void line_is(int result, bool xfail, const char *why, const char *first,
		    enum tap_kind kind, const char *want)
{
	char buf[1200];
	enum tap_kind k = tap_result(buf, sizeof(buf), 4, "c", result, xfail, why, first);

	ok(k == kind && !strcmp(buf, want), "tap: '%s'", want);
	if (strcmp(buf, want))
		printf("#   have: %s\n", buf);
}

static void test_tap_lines(void)
{
	line_is(CASE_PASS, false, "", NULL, TAP_PASS, "ok 4 c");
	line_is(CASE_FAIL, false, "", "x", TAP_FAIL, "not ok 4 c");
	line_is(CASE_FAIL, false, "case timed out", NULL, TAP_FAIL, "not ok 4 c # case timed out");
	line_is(CASE_SKIP, false, "", NULL, TAP_SKIP, "ok 4 c # SKIP");
	line_is(CASE_SKIP, true, "", NULL, TAP_SKIP, "ok 4 c # SKIP");
	line_is(CASE_FAIL, true, "", "deliberate failure", TAP_XFAIL,
		"ok 4 c # XFAIL deliberate failure");
	line_is(CASE_FAIL, true, "case crashed", "", TAP_XFAIL, "ok 4 c # XFAIL case crashed");
	line_is(CASE_FAIL, true, NULL, NULL, TAP_XFAIL, "ok 4 c # XFAIL expected failure");
	line_is(CASE_FAIL, true, "", "two\nlines # hash", TAP_XFAIL,
		"ok 4 c # XFAIL two lines   hash");
	line_is(CASE_PASS, true, "", NULL, TAP_XPASS,
		"not ok 4 c # XPASS expected to fail but passed");
}

/* ---- run_cases() end to end: the first failure reaches the XFAIL line ---- */

GUEST_CASE(t_fail, "fails a CHECK")
{
	CHECK(1 + 1 == 3, "deliberate failure %d", 7);
	CHECK(0, "second failure");
	return CASE_RESULT();
}

GUEST_CASE(t_fail_plain, "fails without a CHECK")
{
	return CASE_FAIL;
}

GUEST_CASE(t_pass, "passes")
{
	return CASE_PASS;
}

GUEST_CASE(t_skip, "skips")
{
	return CASE_SKIP;
}

static void test_run_cases(void)
{
	static const char *const want[] = {
		"TAP version 13", "1..4", "ok 1 t_fail # XFAIL deliberate failure 7",
		"ok 2 t_fail_plain # XFAIL expected failure",
		"not ok 3 t_pass # XPASS expected to fail but passed", "ok 4 t_skip # SKIP",
		"# Totals: pass:0 fail:0 xfail:2 xpass:1 skip:1 error:0",
	};
	char line[1200], name[64];
	int fd, null, rc;
	size_t i = 0;
	FILE *f;

	f = tmpfile();
	tap_copy = f;
	kmsg_dev = "/dev/null";
	case_xfail = "t_fail*,t_pass,t_skip";
	fflush(stdout);
	fd = dup(1);
	null = open("/dev/null", O_WRONLY);
	dup2(null, 1);
	rc = run_cases("test", "t_*", NULL, NULL);
	fflush(stdout);
	dup2(fd, 1);
	close(fd);
	close(null);
	tap_copy = NULL;
	ok(rc == 1, "run_cases: returns fail + xpass (%d)", rc);
	rewind(f);
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#' && strncmp(line, "# Totals", 8))
			continue;	/* diagnostics */
		if (i < sizeof(want) / sizeof(want[0])) {
			snprintf(name, sizeof(name), "run_cases: TAP line %zu", i + 1);
			same(line, want[i], name);
		}
		i++;
	}
	ok(i == sizeof(want) / sizeof(want[0]), "run_cases: %zu TAP lines", i);
	fclose(f);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("TAP version 13\n");
	test_jrec_numbers();
	test_jrec_strings();
	test_jrec_nesting();
	test_jrec_overflow();
	test_cells_good();
	test_cells_bad();
	test_globs();
	test_tap_lines();
	test_run_cases();
	printf("1..%d\n", tests);
	printf("# Totals: pass:%d fail:%d xfail:0 xpass:0 skip:0 error:0\n", tests - failures,
	       failures);
	return failures ? 1 : 0;
}
