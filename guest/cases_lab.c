// SPDX-License-Identifier: GPL-2.0
/*
 * Lab cases: the midlayer's scan attribute on scsi_debug (a non-SAS host that
 * goes through scsi_scan_host_selected()), the kernel's SCSI KUnit suites, a
 * listing of hosts and devices for the demo, and the runner's self-tests.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "guest.h"

/* scsi_debug topology used by the lab: 2 targets x 2 LUNs on channel 0. */
#define SDEBUG_ARGS "num_tgts=2 max_luns=2 dev_size_mb=8"
#define SDEBUG_ALL "0:0:0 0:0:1 0:1:0 0:1:1"

static int sdebug_up(void)
{
	int host;

	unload_module("scsi_debug");
	if (run("modprobe scsi_debug " SDEBUG_ARGS)) {
		diag("modprobe scsi_debug failed");
		return -1;
	}
	host = find_host("scsi_debug");
	if (host < 0) {
		diag("no scsi_debug host after modprobe");
		return -1;
	}
	if (!wait_devices(host, SDEBUG_ALL, 20000)) {
		char have[256];

		host_device_string(host, have, sizeof(have));
		diag("initial devices '%s', want '%s'", have, SDEBUG_ALL);
		return -1;
	}
	return host;
}

static void sdebug_down(void)
{
	CHECK(unload_module("scsi_debug") == 0, "rmmod scsi_debug failed");
}

/* Delete everything, write @req, expect exactly @want on the host. */
static int sdebug_rescan(const char *req, const char *want)
{
	char have[256];
	int host, rc;

	host = sdebug_up();
	if (host < 0)
		return CASE_FAIL;
	CHECK(delete_all_devices(host) == 0, "delete failed");
	CHECK(wait_devices(host, "", 5000), "devices left after delete");
	rc = scan_host(host, req);
	CHECK(rc == 0, "scan '%s' returned %d (%s)", req, rc, strerror(-rc));
	/* the scan write is synchronous: what it found is there now */
	host_device_string(host, have, sizeof(have));
	CHECK(!strcmp(have, want), "after '%s': have '%s', want '%s'", req,
	      have, want);
	diag("scan '%s' -> %s", req, have);
	sdebug_down();
	return CASE_RESULT();
}

GUEST_CASE(lab_sdebug_load, "scsi_debug's devices appear, each with an sd disk")
{
	struct scsi_addr devs[8];
	char disk[32];
	int host, n, i;

	host = sdebug_up();
	if (host < 0)
		return CASE_FAIL;
	n = host_devices(host, devs, 8);
	CHECK(n == 4, "%d devices", n);
	for (i = 0; i < n; i++) {
		int tries = 100;

		while (device_disk(&devs[i], disk, sizeof(disk)), !disk[0] && tries--)
			sleep_ms(100);
		CHECK(disk[0], "no sd disk on %u:%u:%u:%llu", devs[i].host,
		      devs[i].channel, devs[i].id, devs[i].lun);
	}
	sdebug_down();
	return CASE_RESULT();
}

GUEST_CASE(lab_sdebug_scan_wildcard, "'- - -' brings back every deleted device")
{
	return sdebug_rescan("- - -", SDEBUG_ALL);
}

GUEST_CASE(lab_sdebug_scan_channel, "'0 - -' brings back every device on channel 0")
{
	return sdebug_rescan("0 - -", SDEBUG_ALL);
}

GUEST_CASE(lab_sdebug_scan_target, "'0 1 -' brings back exactly target 1's LUNs")
{
	return sdebug_rescan("0 1 -", "0:1:0 0:1:1");
}

GUEST_CASE(lab_sdebug_scan_lun, "'0 0 1' brings back exactly LUN 0:0:1")
{
	return sdebug_rescan("0 0 1", "0:0:1");
}

/*
 * Each of @bad must fail with EINVAL and change nothing; 0:1:1 is deleted
 * first, so that a scan that does happen brings it back and shows.
 */
static int sdebug_rejects(const char *const *bad, unsigned int n)
{
	char before[256], after[256], path[128];
	unsigned int i;
	int host, rc;

	host = sdebug_up();
	if (host < 0)
		return CASE_FAIL;
	snprintf(path, sizeof(path), "/sys/class/scsi_device/%d:0:1:1/device/delete",
		 host);
	CHECK(write_str(path, "1") == 0, "delete %s failed", path);
	host_device_string(host, before, sizeof(before));
	CHECK(!strcmp(before, "0:0:0 0:0:1 0:1:0"), "before: %s", before);
	for (i = 0; i < n; i++) {
		rc = scan_host(host, bad[i]);
		host_device_string(host, after, sizeof(after));
		diag("'%s' -> %d (%s)", bad[i], rc, rc ? strerror(-rc) : "accepted");
		CHECK(rc == -EINVAL, "'%s' returned %d, want -EINVAL", bad[i], rc);
		CHECK(!strcmp(before, after), "'%s' changed devices: %s -> %s",
		      bad[i], before, after);
		/* judge the next string on its own */
		if (strcmp(before, after) && write_str(path, "1"))
			diag("delete %s failed", path);
	}
	sdebug_down();
	return CASE_RESULT();
}

GUEST_CASE(lab_sdebug_scan_invalid,
	   "malformed or out-of-range scans fail with EINVAL and change nothing")
{
	/* scsi_debug: max_channel 0, max_id 8 (this_id 7, so 3 ids), max_lun 2 */
	static const char *const bad[] = {
		"\n", " ", "x - -", "- -", "-", "0 0 0 0", "1 - -", "0 99 -", "0 0 99999",
		"0x - -", "- - 1q", "4294967294 - -",
	};

	return sdebug_rejects(bad, sizeof(bad) / sizeof(bad[0]));
}

/*
 * The series' first patch: channel and id are passed on as unsigned int,
 * so an unpatched kernel scans 0:1:1 for each of these (4294967296 and
 * 8589934592 -> 0, 4294967297 -> 1, 4294967295 and 0xffffffff -> wildcard).
 */
GUEST_CASE(fix_sdebug_scan_truncated,
	   "channel/id values >= 2^32 - 1 fail with EINVAL, not truncated")
{
	static const char *const bad[] = {
		"4294967296 1 1", "4294967295 1 1", "8589934592 - -", "0 4294967297 1",
		"0 0xffffffff 1", "- 4294967295 -",
	};

	return sdebug_rejects(bad, sizeof(bad) / sizeof(bad[0]));
}

GUEST_CASE(lab_kunit_scsi_lib, "the kernel's scsi_lib KUnit suite (built into scsi_mod)")
{
	return kunit_case("scsi_lib", NULL);
}

GUEST_CASE(lab_kunit_scsi_proto, "the kernel's scsi_proto KUnit suite (module)")
{
	return kunit_case("scsi_proto", "scsi_proto_test");
}

GUEST_CASE(demo_hosts, "load scsi_debug and list the SCSI hosts and devices found")
{
	int host = sdebug_up();

	if (host < 0)
		return CASE_FAIL;
	CHECK(run("lsscsi -H") == 0, "lsscsi -H failed");
	CHECK(run("lsscsi -s") == 0, "lsscsi failed");
	sdebug_down();
	return CASE_RESULT();
}

/*
 * Runner self-tests: each of these must make the host report a failure.
 * lab/check.py boots them and asserts that the runner catches every one.
 */
GUEST_CASE(selftest_pass, "a case that passes, next to the failing ones")
{
	return CASE_PASS;
}

GUEST_CASE(selftest_fail, "a case that fails its check (the runner must report it)")
{
	CHECK(1 + 1 == 3, "deliberate failure");
	return CASE_RESULT();
}

GUEST_CASE(selftest_warn, "a case that passes but makes the kernel WARN")
{
	if (run("modprobe sasscan_selftest"))
		return CASE_FAIL;
	CHECK(write_str("/sys/kernel/debug/sasscan_selftest/warn", "1") == 0,
	      "warn trigger failed");
	run("rmmod sasscan_selftest");
	return CASE_PASS;
}

GUEST_CASE(selftest_hung_task, "a case that blocks a task in D state past the hung-task timeout")
{
	int secs = 3 * (int)read_ll("/proc/sys/kernel/hung_task_timeout_secs");

	if (secs <= 0)
		return CASE_FAIL;
	if (run("modprobe sasscan_selftest"))
		return CASE_FAIL;
	{
		char s[16];

		snprintf(s, sizeof(s), "%d", secs);
		CHECK(write_str("/sys/kernel/debug/sasscan_selftest/block_secs", s) == 0,
		      "block trigger failed");
	}
	run("rmmod sasscan_selftest");
	return CASE_PASS;
}

GUEST_CASE_T(selftest_hang, "a case that never ends (the boot must time out)", 0)
{
	for (;;)
		pause();
	return CASE_PASS;
}

/* Only meaningful on kernels with the fix series (the fixed variant). */
GUEST_CASE(fix_kunit_sas_user_scan,
	   "the series' sas_user_scan KUnit suite (built into scsi_transport_sas)")
{
	return kunit_case("sas_user_scan", NULL);
}

GUEST_CASE(fix_kunit_scsi_sysfs_scan,
	   "the series' scsi_sysfs_scan KUnit suite (built into scsi_mod)")
{
	return kunit_case("scsi_sysfs_scan", NULL);
}

GUEST_CASE(fix_kunit_scsi_proc_hctl,
	   "the series' scsi_proc_hctl KUnit suite (built into scsi_mod)")
{
	return kunit_case("scsi_proc_hctl", NULL);
}
