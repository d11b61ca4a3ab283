// SPDX-License-Identifier: GPL-2.0
/*
 * vsas cases, libsas personalities (hisi_sas, aic94xx, isci, mvsas, pm8001)
 * on the real libsas: topology discovered through PHY/port events, data
 * round trip, hot add/remove through PHY events, what each driver's
 * scan_start does to the links (and to I/O in flight), and the generic
 * channel-1 scan that would Oops in sas_target_alloc().
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guest.h"
#include "vsas_util.h"

#define LS_TOPO "0/2 0/2"
#define LS_WANT "0:0:0 0:0:1 0:1:0 0:1:1"
#define CTR(h, n) vsas_counter(h, n)

static int ls_up(const char *name, const char *pers, const char *const *extra)
{
	const char *params[8] = { "num_phys=4", "link_down_ms=200" };
	int host, n = 2;

	while (extra && *extra && n < 7)
		params[n++] = *extra++;
	params[n] = NULL;
	host = vsas_create(name, pers, params, LS_TOPO);
	if (host < 0)
		return -1;
	if (!vsas_expect_devices(host, LS_WANT, 20000)) {
		vsas_destroy(name);
		return -1;
	}
	vsas_devcmd(name, "flush");
	return host;
}

static void ls_down(const char *name)
{
	CHECK(vsas_destroy(name) == 0, "removing %s", name);
}

/* The PHY a device of host @name is plugged into, by state or target id. */
static int ls_dev_phy(const char *name, const char *match)
{
	char out[4096], *line, *save, *p;

	if (run_capture(out, sizeof(out), "cat " VSAS_CFS "/%s/devices", name))
		return -1;
	for (line = strtok_r(out, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!strstr(line, match))
			continue;
		p = strstr(line, " phy=");
		if (p)
			return atoi(p + 5);
	}
	diag("no device '%s' in:\n%s", match, out);
	return -1;
}

static int ls_link_reset(int host, int phy)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/class/sas_phy/phy-%d:%d/link_reset",
		 host, phy);
	return write_str(path, "1");
}

/* ---- topology -------------------------------------------------------------- */

static int ls_topology(const void *row)
{
	const struct pers_info *p = row;
	char path[128], disk[32];
	int host, i;
	static const unsigned int ids[] = { 0, 0, 1, 1 }, luns[] = { 0, 1, 0, 1 };

	host = ls_up("lstopo", p->pers, NULL);
	if (host < 0)
		return CASE_FAIL;
	for (i = 0; i < 4; i++) {
		CHECK(vsas_check_inquiry(host, 0, ids[i], luns[i], "VSAS", "SAS DISK"),
		      "inquiry");
		CHECK(vsas_under_rphy(host, 0, ids[i], luns[i]), "not under an rphy");
		vsas_disk(host, 0, ids[i], luns[i], disk, sizeof(disk));
		CHECK(disk[0], "no disk for 0:%u:%u", ids[i], luns[i]);
	}
	snprintf(path, sizeof(path), VSAS_DBG "/host%d/state", host);
	CHECK(run("grep -qx 'max_channel %u' %s", p->max_channel, path) == 0,
	      "max_channel");
	CHECK(run("grep -qx 'max_lun %s' %s", p->max_lun, path) == 0, "max_lun");
	/* libsas registered our PHYs with the transport */
	CHECK(run("test -e /sys/class/sas_phy/phy-%d:3", host) == 0, "no sas_phy");
	CHECK(CTR(host, "devs_added") == 2, "devs_added %lld", CTR(host, "devs_added"));
	CHECK(CTR(host, "scan_start") == 1, "scan_start %lld", CTR(host, "scan_start"));
	CHECK(CTR(host, "scan_finished_done") == 1, "scan_finished_done %lld",
	      CTR(host, "scan_finished_done"));
	CHECK(CTR(host, "phy_events") >= 4, "phy_events %lld", CTR(host, "phy_events"));
	CHECK(CTR(host, "target_allocs") == 2, "target_allocs %lld",
	      CTR(host, "target_allocs"));
	CHECK(CTR(host, "target_allocs_nonrphy") == 0, "nonrphy");
	CHECK(CTR(host, "absent_probes") == 0, "absent_probes %lld",
	      CTR(host, "absent_probes"));
	ls_down("lstopo");
	return CASE_RESULT();
}

GUEST_CASE_PARAM(topology, ls_topology, pers_table, pers_desc_libsas)

/* ---- data ------------------------------------------------------------------- */

static int ls_data(const void *row)
{
	const char *pers = ((const struct pers_info *)row)->pers;
	char d0[32], d1[32];
	int host = ls_up("lsdata", pers, NULL);

	if (host < 0)
		return CASE_FAIL;
	vsas_disk(host, 0, 0, 1, d0, sizeof(d0));
	vsas_disk(host, 0, 1, 0, d1, sizeof(d1));
	CHECK(d0[0] && vsas_roundtrip(d0, 1024, 2048), "round trip %s", d0);
	CHECK(d1[0] && vsas_roundtrip(d1, 64, 0), "round trip %s", d1);
	CHECK(CTR(host, "opcode_0x2a") > 0 && CTR(host, "opcode_0x28") > 0,
	      "READ/WRITE not counted");
	CHECK(CTR(host, "io_failed_by_reset") == 0, "I/O failed");
	ls_down("lsdata");
	return CASE_RESULT();
}

GUEST_CASE_PARAM(data, ls_data, pers_table, pers_desc_libsas)

/* ---- hot add / remove through PHY events -------------------------------------- */

static int ls_hotplug(const void *row)
{
	const char *pers = ((const struct pers_info *)row)->pers;
	char d[32];
	int host, phy;

	host = ls_up("lshot", pers, NULL);
	if (host < 0)
		return CASE_FAIL;
	vsas_reset_counters(host);
	/* noticed: the link of a free PHY comes up, libsas discovers it */
	CHECK(vsas_devcmd("lshot", "add ch=0 model=HOTDISK") == 0, "add");
	CHECK(vsas_expect_devices(host, LS_WANT " 0:2:0", 10000), "noticed add");
	CHECK(vsas_check_inquiry(host, 0, 2, 0, "VSAS", "HOTDISK"), "model");
	CHECK(vsas_devcmd("lshot", "remove ch=0 id=2") == 0, "remove");
	CHECK(vsas_expect_devices(host, LS_WANT, 10000), "noticed remove");
	CHECK(vsas_devcmd("lshot", "flush") == 0, "flush");
	for (phy = 0; phy < 20 && CTR(host, "devs_removed") < 1; phy++)
		sleep_ms(100);	/* lldd_dev_gone runs on libsas's queue */
	CHECK(CTR(host, "devs_added") == 1 && CTR(host, "devs_removed") == 1,
	      "added %lld removed %lld", CTR(host, "devs_added"),
	      CTR(host, "devs_removed"));
	CHECK(CTR(host, "hotplug_events") == 2, "hotplug_events %lld",
	      CTR(host, "hotplug_events"));

	/* silent: plugged, but no link event; "- - -" cannot find it */
	CHECK(vsas_devcmd("lshot", "add ch=0 mode=silent") == 0, "silent add");
	sleep_ms(1000);
	CHECK(scan_host(host, "- - -") == 0, "scan");
	CHECK(vsas_expect_devices(host, LS_WANT, 100), "silent add visible");
	/* a link reset of its PHY (sysfs -> libsas -> lldd_control_phy) finds it */
	phy = ls_dev_phy("lshot", "state=fw-only");
	CHECK(phy >= 0 && ls_link_reset(host, phy) == 0, "link_reset of phy %d", phy);
	CHECK(vsas_expect_devices(host, LS_WANT " 0:3:0", 10000),
	      "link reset of phy %d did not find the silent add", phy);
	CHECK(CTR(host, "link_resets") >= 1, "link_resets %lld", CTR(host, "link_resets"));

	/* silent remove: libsas keeps the device, its I/O fails */
	vsas_disk(host, 0, 3, 0, d, sizeof(d));
	phy = ls_dev_phy("lshot", " id=3 ");
	CHECK(vsas_devcmd("lshot", "remove ch=0 id=3 mode=silent") == 0, "silent rm");
	sleep_ms(500);
	CHECK(vsas_expect_devices(host, LS_WANT " 0:3:0", 100), "silent remove noticed");
	CHECK(d[0] && vsas_sg_read(d) != 0, "READ(10) to removed %s worked", d);
	CHECK(phy >= 0 && ls_link_reset(host, phy) == 0, "link_reset %d", phy);
	CHECK(vsas_expect_devices(host, LS_WANT, 10000), "link reset did not remove it");
	ls_down("lshot");
	return CASE_RESULT();
}

GUEST_CASE_PARAM(hotplug, ls_hotplug, pers_table, pers_desc_libsas)

/* ---- scan_start at runtime: PHY re-enable during I/O ------------------------- */

/* isci: START_PENDING is never cleared again; the debugfs escape ends it. */
static void ls_scan_wedged(int host, int rc, const char *have0)
{
	char have1[256];

	CHECK(rc == -ETIMEDOUT, "isci call_scan returned %d", rc);
	CHECK(CTR(host, "scan_stuck") == 1, "scan_stuck %lld", CTR(host, "scan_stuck"));
	CHECK(CTR(host, "scan_finished_done") == 0, "finished");
	CHECK(CTR(host, "io_failed_by_reset") == 0, "I/O failed");
	run("echo 1 > " VSAS_DBG "/host%d/isci_escape", host);
	CHECK(vsas_call_scan(host, "start timeout=5000") == 0, "escaped scan");
	sleep_ms(4000);
	host_device_string(host, have1, sizeof(have1));
	CHECK(!strcmp(have0, have1), "devices changed: %s -> %s", have0, have1);
}

/* The links drop and come back: in-flight I/O fails, libsas rediscovers. */
static void ls_scan_cycles(const struct pers_info *p, int host, int rc)
{
	CHECK(rc == 0, "call_scan %d", rc);
	CHECK(CTR(host, "link_resets") >= 2, "link_resets %lld", CTR(host, "link_resets"));
	CHECK(CTR(host, "io_failed_by_reset") >= 1, "io_failed_by_reset %lld",
	      CTR(host, "io_failed_by_reset"));
	CHECK(CTR(host, "devs_removed") >= 2, "devs_removed %lld", CTR(host, "devs_removed"));
	/* the links come back, libsas rediscovers (new target ids), plus the silent add */
	CHECK(wait_device_count(host, 5, 15000), "devices after re-enable");
	if (p->fw_reset)
		CHECK(CTR(host, "fw_resets") == 1, "fw_resets %lld", CTR(host, "fw_resets"));
}

/* mvsas: events re-injected, no link drop, the silent add found. */
static void ls_scan_reinject(int host, int rc)
{
	CHECK(rc == 0, "call_scan %d", rc);
	CHECK(CTR(host, "link_resets") == 0, "link_resets %lld", CTR(host, "link_resets"));
	CHECK(CTR(host, "phy_events") >= 6, "phy_events %lld", CTR(host, "phy_events"));
	CHECK(wait_device_count(host, 5, 15000), "silent add not found");
	CHECK(CTR(host, "devs_removed") == 0, "devs_removed %lld", CTR(host, "devs_removed"));
}

static int ls_scan(const void *row)
{
	const struct pers_info *p = row;
	char d0[32], have0[256];
	int host, rc;

	host = ls_up("lsscan", p->pers, NULL);
	if (host < 0)
		return CASE_FAIL;
	/* slow I/O only now: discovery at creation would take minutes */
	CHECK(vsas_set("lsscan", "io_delay_ms", "3000") == 0, "io_delay");
	vsas_disk(host, 0, 1, 0, d0, sizeof(d0));
	host_device_string(host, have0, sizeof(have0));
	vsas_reset_counters(host);
	/* a silent add for the rescan to find */
	CHECK(vsas_devcmd("lsscan", "add ch=0 mode=silent") == 0, "silent add");
	run("(echo 3 > /proc/sys/vm/drop_caches;"
	    " dd if=/dev/%s of=/dev/null bs=4k count=1 skip=777 2>/dev/null;"
	    " echo $? > /tmp/lsdd) >/dev/null 2>&1 &", d0);
	sleep_ms(700);
	CHECK(CTR(host, "inflight") >= 1, "nothing in flight");
	/* only that command is slow; rediscovery must not be */
	CHECK(vsas_set("lsscan", "io_delay_ms", "0") == 0, "io_delay 0");
	rc = vsas_call_scan(host, p->wedges ? "start timeout=3000" : "start timeout=30000");
	if (p->wedges)
		ls_scan_wedged(host, rc, have0);
	else if (p->cycles)
		ls_scan_cycles(p, host, rc);
	else
		ls_scan_reinject(host, rc);
	sleep_ms(3500);
	diag("dd during scan_start exited %lld; io_failed_by_reset %lld",
	     read_ll("/tmp/lsdd"), CTR(host, "io_failed_by_reset"));
	vsas_set("lsscan", "io_delay_ms", "0");
	ls_down("lsscan");
	return CASE_RESULT();
}

GUEST_CASE_PARAM(scan, ls_scan, pers_table, pers_desc_libsas)

/* ---- generic channel-1 scan: sas_target_alloc() on host-parent targets -------- */

static int ls_chan1(const char *pers, const char *const *extra)
{
	char path[128];
	int host = ls_up("lsch1", pers, extra);

	if (host < 0)
		return CASE_FAIL;
	vsas_reset_counters(host);
	snprintf(path, sizeof(path), VSAS_DBG "/host%d/scan_generic", host);
	CHECK(write_str(path, "1 - -") == 0, "scan_generic 1 - -");
	CHECK(CTR(host, "target_alloc_would_oops") == 1024,
	      "target_alloc_would_oops %lld", CTR(host, "target_alloc_would_oops"));
	CHECK(CTR(host, "target_allocs_nonrphy") == 1024, "nonrphy %lld",
	      CTR(host, "target_allocs_nonrphy"));
	CHECK(CTR(host, "slave_allocs") == 0, "slave_allocs %lld",
	      CTR(host, "slave_allocs"));
	CHECK(vsas_expect_devices(host, LS_WANT, 100), "devices changed");
	/* the stock "- - -" never reaches channel 1 */
	vsas_reset_counters(host);
	CHECK(scan_host(host, "- - -") == 0, "scan");
	CHECK(CTR(host, "target_allocs_nonrphy") == 0, "user scan made host-parent targets");
	ls_down("lsch1");
	return CASE_RESULT();
}

GUEST_CASE(vsas_mvsas_chan1,
	   "mvsas (max_channel 1): a generic ch1 scan would Oops 1024 times in sas_target_alloc")
{ return ls_chan1("mvsas", NULL); }

GUEST_CASE(vsas_hisi_sas_oldchan,
	   "hisi_sas with max_channel=1 (before 8ddc0c269165): generic ch1 scan would Oops")
{
	static const char *const old[] = { "max_channel=1", NULL };

	return ls_chan1("hisi_sas", old);
}

/* ---- an edge expander: SMP REPORT GENERAL / DISCOVER, BROADCAST (CHANGE) ------- */

static int exp_children(int host)
{
	char out[64];

	run_capture(out, sizeof(out),
		    "ls -d /sys/class/scsi_device/%d:0:*:0/device 2>/dev/null | while read d;"
		    " do readlink -f $d; done | grep -c /expander-", host);
	return atoi(out);
}

#define EXPANDER_WHAT \
	"hisi_sas: libsas discovers end devices behind an expander via SMP; hot add/remove via BROADCAST"

GUEST_CASE(vsas_hisi_sas_expander, EXPANDER_WHAT)
{
	static const char *const params[] = { "num_phys=4", NULL };
	int host = vsas_create("lsexp", "hisi_sas", params, "0/2 0e 0e");

	if (host < 0)
		return CASE_FAIL;
	CHECK(wait_device_count(host, 4, 20000), "devices behind the expander");
	CHECK(exp_children(host) == 2, "%d devices under an expander", exp_children(host));
	CHECK(run("test -e /sys/class/sas_expander/expander-%d:0", host) == 0,
	      "no sas_expander");
	vsas_reset_counters(host);
	CHECK(vsas_devcmd("lsexp", "add ch=0 exp=1 model=EXPHOT") == 0, "noticed add");
	CHECK(wait_device_count(host, 5, 10000), "noticed add behind the expander");
	CHECK(exp_children(host) == 3, "%d under expander", exp_children(host));
	CHECK(CTR(host, "phy_events") >= 1, "no BROADCAST");
	CHECK(vsas_devcmd("lsexp", "add ch=0 exp=1 mode=silent") == 0, "silent add");
	sleep_ms(1000);
	CHECK(host_device_count(host) == 5, "silent add visible");
	CHECK(run("for d in /sys/class/sas_phy/phy-%d:*; do :; done; "
		  "ls /sys/class/sas_phy/ | grep -q 'phy-%d:0:'", host, host) == 0,
	      "no expander phys");
	ls_down("lsexp");
	return CASE_RESULT();
}
