// SPDX-License-Identifier: GPL-2.0
/*
 * vsas cases, transport-direct personalities (plain, smartpqi, hpsa,
 * mpt3sas, mpi3mr): topology at load, data round trip, hot add/remove
 * (noticed and silent), scan hooks and their consequences, runtime PM.
 * Every case creates its own host through configfs and removes it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guest.h"
#include "vsas_util.h"

#define PM_WHAT "host runtime-suspends, resumes on I/O and scan"
#define LS_DATA_WHAT "data round trip"
#define LS_HOT_WHAT "hot add/remove through PHY events"

/* The one table of personality facts (see struct pers_info). */
const struct pers_info pers_table[PERS_COUNT] = {
	{
		.pers = "plain",
		.what = {
			[PC_TOPOLOGY] =
				"rphys (one behind an expander) and a 2-LUN target at load, counters",
			[PC_DATA] = "data written to rphy and expander disks reads back intact",
			[PC_HOTPLUG] = "noticed/silent add and remove on ch0 and ch1",
			[PC_PM] = PM_WHAT,
			[PC_SCAN] = "no scan hooks; '- - -' probes only rphys, nothing absent",
			[PC_GENERIC] =
				"generic ch0 scan probes ids without rphy (absent, DID_NO_CONNECT)",
			[PC_EH] = "a timed-out command is aborted by SCSI EH, the retry succeeds",
		},
		.topology = "0/2 0 0e",
		.want = "0:0:0 0:0:1 0:1:0 0:2:0",
		.devs = { { 0, 0, 0, "SAS DISK" }, { 0, 0, 1, "SAS DISK" },
			  { 0, 1, 0, "SAS DISK" }, { 0, 2, 0, "SAS DISK" } },
		.ndevs = 4, .nvsas = 3,
		/* scsi_scan_host(): ch 0, ids 3..15 have no rphy */
		.nonrphy_at_load = 13, .absent_at_load = 13,
		.hooks = false, .hot_ch = 1, .hot_model = "CH1 DISK",
		.next_rphy_id = 3,
		.data_dev = { 0, 2, 0, "SAS DISK" },
		.gen = { { "0 - -", 0, "absent_probes", 13 },
			 { "0 - -", 0, "target_allocs_nonrphy", 13 } },
		.ngen = 2,
	},
	{
		.pers = "smartpqi",
		.what = {
			[PC_TOPOLOGY] = "physical on ch0 rphys, logical volumes on ch1/ch3",
			[PC_DATA] = "data round trip on physical and logical disks",
			[PC_HOTPLUG] = "hot add/remove; silent ones need the driver rescan",
			[PC_PM] = PM_WHAT,
			[PC_SCAN] =
				"scan_start rescans synchronously; under scan_mutex it would deadlock",
			[PC_GENERIC] =
				"generic ch1 scan (bounded: max_id is 2^32-1) counts absent probes",
		},
		.topology = "0/2 0 1:0 1:1 3:5",
		.want = "0:0:0 0:0:1 0:1:0 1:0:0 1:1:0 3:5:0",
		.devs = { { 0, 0, 0, "SAS DISK" }, { 0, 0, 1, "SAS DISK" },
			  { 0, 1, 0, "SAS DISK" }, { 1, 0, 0, "LOGICAL VOLUME" },
			  { 1, 1, 0, "LOGICAL VOLUME" },
			  { 3, 5, 0, "EXT LOGICAL VOL" } },
		.ndevs = 6, .nvsas = 5, .nonrphy_at_load = 3,
		.absent_at_load = 0, .hooks = true, .rescan_attr = true, .hot_ch = 1,
		.hot_model = "LOGICAL VOLUME", .next_rphy_id = 2,
		.data_dev = { 1, 1, 0, "LOGICAL VOLUME" },
		.gen = { { "1 - - limit=256", 0, "absent_probes", 254 },
			 { "3 - - limit=100", 0, "absent_probes", 99 } },
		.ngen = 2,
	},
	{
		.pers = "hpsa",
		.what = {
			[PC_TOPOLOGY] = "physical on ch0 rphys, volumes on ch1/ch2",
			[PC_DATA] = "data round trip on physical and logical disks",
			[PC_HOTPLUG] = "hot add/remove; silent ones need the driver rescan",
			[PC_PM] = PM_WHAT,
			[PC_SCAN] =
				"scan_start rescans synchronously; under scan_mutex it would deadlock",
			[PC_GENERIC] = "generic ch1 scan probes 1024 ids, 1022 absent",
		},
		.topology = "0/2 0 1:0 1:1 2:3",
		.want = "0:0:0 0:0:1 0:1:0 1:0:0 1:1:0 2:3:0",
		.devs = { { 0, 0, 0, "SAS DISK" }, { 0, 0, 1, "SAS DISK" },
			  { 0, 1, 0, "SAS DISK" }, { 1, 0, 0, "LOGICAL VOLUME" },
			  { 1, 1, 0, "LOGICAL VOLUME" },
			  { 2, 3, 0, "EXT LOGICAL VOL" } },
		.ndevs = 6, .nvsas = 5, .nonrphy_at_load = 3,
		.absent_at_load = 0, .hooks = true, .rescan_attr = true, .hot_ch = 1,
		.hot_model = "LOGICAL VOLUME", .next_rphy_id = 2,
		.data_dev = { 2, 3, 0, "EXT LOGICAL VOL" },
		.gen = { { "1 - -", 0, "absent_probes", 1022 } },
		.ngen = 1,
	},
	{
		.pers = "mpt3sas",
		.what = {
			[PC_TOPOLOGY] = "RAID on ch1, NVMe on ch2 despite max_channel 0",
			[PC_DATA] = "data round trip on SAS and NVMe (ch2) disks",
			[PC_HOTPLUG] = "hot add/remove; silent ones need a port enable",
			[PC_PM] = PM_WHAT,
			[PC_SCAN] =
				"runtime port enable resets firmware, fails I/O; stalls under scan_mutex",
			[PC_GENERIC] =
				"RAID/NVMe channels are beyond max_channel 0; ch0 host-parent probes",
		},
		.topology = "0/2 0 0e 1:0 2:4",
		.want = "0:0:0 0:0:1 0:1:0 0:2:0 1:0:0 2:4:0",
		.devs = { { 0, 0, 0, "SAS DISK" }, { 0, 0, 1, "SAS DISK" },
			  { 0, 1, 0, "SAS DISK" }, { 0, 2, 0, "SAS DISK" },
			  { 1, 0, 0, "RAID VOLUME" }, { 2, 4, 0, "NVME DISK" } },
		.ndevs = 6, .nvsas = 5, .nonrphy_at_load = 2,
		.absent_at_load = 0, .hooks = true, .pe_stalls = true, .hot_ch = 2,
		.hot_model = "NVME DISK", .next_rphy_id = 3,
		.data_dev = { 2, 4, 0, "NVME DISK" },
		.gen = { { "1 - -", -EINVAL, "absent_probes", 0 },
			 { "2 4 0", -EINVAL, "target_allocs", 0 },
			 { "0 - - limit=64", 0, "target_allocs_nonrphy", 61 } },
		.ngen = 3,
	},
	{
		.pers = "mpi3mr",
		.what = {
			[PC_TOPOLOGY] = "NVMe on ch1 via scsi_scan_target(), ch0 rphys",
			[PC_DATA] = "data round trip on SAS and NVMe (ch1) disks",
			[PC_HOTPLUG] = "hot add/remove; silent ones need a port enable",
			[PC_PM] = PM_WHAT,
			[PC_SCAN] =
				"runtime port enable resets firmware, fails I/O; no stall under scan_mutex",
			[PC_GENERIC] =
				"ch1 target_alloc -ENXIO for unknown perst ids; ch0 wild reads",
		},
		.topology = "0/2 0 1:0 1:7/2",
		.want = "0:0:0 0:0:1 0:1:0 1:0:0 1:7:0 1:7:1",
		.devs = { { 0, 0, 0, "SAS DISK" }, { 0, 0, 1, "SAS DISK" },
			  { 0, 1, 0, "SAS DISK" }, { 1, 0, 0, "NVME DISK" },
			  { 1, 7, 0, "NVME DISK" }, { 1, 7, 1, "NVME DISK" } },
		.ndevs = 6, .nvsas = 4, .nonrphy_at_load = 2,
		.absent_at_load = 0, .hooks = true, .hot_ch = 1,
		.hot_model = "NVME DISK", .next_rphy_id = 2,
		.data_dev = { 1, 7, 1, "NVME DISK" },
		.gen = { { "1 - -", 0, "target_alloc_enxio", 1022 },
			 { "1 - -", 0, "slave_allocs", 0 },
			 { "0 - - limit=16", 0, "target_alloc_wild_read", 14 } },
		.ngen = 3,
	},
	{
		.pers = "hisi_sas", .libsas = true,
		.what = {
			[PC_TOPOLOGY] = "libsas discovers two end devices through PHY events",
			[PC_DATA] = "SSP tasks on the emulation, data round trip",
			[PC_HOTPLUG] =
				"hot add/remove through PHY events, silent ones via link reset",
			[PC_SCAN] =
				"runtime scan_start re-enables PHYs: links drop, in-flight I/O fails, counted",
			[PC_EH] =
				"a timed-out task goes through libsas EH (lldd_abort_task), retry succeeds",
		},
		.max_channel = 0, .max_lun = "18446744073709551615", .cycles = true,
	},
	{
		.pers = "aic94xx", .libsas = true,
		.what = {
			[PC_TOPOLOGY] = "libsas discovers two end devices through PHY events",
			[PC_DATA] = LS_DATA_WHAT,
			[PC_HOTPLUG] = LS_HOT_WHAT,
			[PC_SCAN] = "runtime scan_start re-enables PHYs: links drop, I/O fails",
		},
		.max_channel = 0, .max_lun = "18446744073709551615", .cycles = true,
	},
	{
		.pers = "isci", .libsas = true,
		.what = {
			[PC_TOPOLOGY] = "libsas discovers two end devices after controller start",
			[PC_DATA] = LS_DATA_WHAT,
			[PC_HOTPLUG] = LS_HOT_WHAT,
			[PC_SCAN] = "a repeated scan_start leaves scan_finished at 0 (escapable)",
		},
		.max_channel = 0, .max_lun = "18446744073709551615", .wedges = true,
		.fw_reset = true,
	},
	{
		.pers = "mvsas", .libsas = true,
		.what = {
			[PC_TOPOLOGY] =
				"max_channel 1, devices on ch0 through re-injected port events",
			[PC_DATA] = LS_DATA_WHAT,
			[PC_HOTPLUG] = LS_HOT_WHAT,
			[PC_SCAN] = "runtime scan_start re-injects port events, no link drop",
		},
		.max_channel = 1, .max_lun = "18446744073709551615",
	},
	{
		.pers = "pm8001", .libsas = true,
		.what = {
			[PC_TOPOLOGY] = "max_lun 8, devices after PHY start",
			[PC_DATA] = LS_DATA_WHAT,
			[PC_HOTPLUG] = LS_HOT_WHAT,
			[PC_SCAN] = "runtime scan_start re-inits the controller and restarts PHYs",
		},
		.max_channel = 0, .max_lun = "8", .cycles = true, .fw_reset = true,
	},
};

static bool pers_desc(const struct pers_info *p, const char *check, char *name, char *what,
		      size_t size)
{
	static const char *const checks[PC_COUNT] = {
		[PC_TOPOLOGY] = "topology", [PC_DATA] = "data", [PC_HOTPLUG] = "hotplug",
		[PC_PM] = "pm", [PC_SCAN] = "scan", [PC_GENERIC] = "generic", [PC_EH] = "eh",
	};
	int i;

	for (i = 0; i < PC_COUNT && strcmp(checks[i], check); i++)
		;
	if (i == PC_COUNT || !p->what[i])
		return false;
	snprintf(name, size, "vsas_%s_%s", p->pers, check);
	snprintf(what, size, "%s: %s", p->pers, p->what[i]);
	return true;
}

bool pers_desc_direct(const void *row, const char *check, char *name, char *what,
		      size_t size)
{
	const struct pers_info *p = row;

	return !p->libsas && pers_desc(p, check, name, what, size);
}

bool pers_desc_libsas(const void *row, const char *check, char *name, char *what,
		      size_t size)
{
	const struct pers_info *p = row;

	return p->libsas && pers_desc(p, check, name, what, size);
}

static bool pers_desc_any(const void *row, const char *check, char *name, char *what,
			  size_t size)
{
	return pers_desc(row, check, name, what, size);
}

/* eh: one case each for a transport-direct and a libsas personality */
static int vsas_eh(const void *row)
{
	const struct pers_info *p = row;

	return vsas_eh_case(p->libsas ? "lseh" : "eh", p->pers, "0", "0:0:0", 0, 0);
}

GUEST_CASE_PARAM(eh, vsas_eh, pers_table, pers_desc_any)

static int vp_up(const struct pers_info *p, const char *name,
		 const char *const *params)
{
	int host = vsas_create(name, p->pers, params, p->topology);

	if (host < 0) {
		diag("creating %s host failed", p->pers);
		return -1;
	}
	if (!vsas_expect_devices(host, p->want, 20000)) {
		vsas_destroy(name);
		return -1;
	}
	/* the last add's bookkeeping may still run on the event queue */
	if (vsas_devcmd(name, "flush"))
		diag("flush failed");
	return host;
}

static void vp_down(const char *name)
{
	CHECK(vsas_destroy(name) == 0, "removing host %s failed", name);
}

#define CTR(h, n) vsas_counter(h, n)

/* ---- topology ------------------------------------------------------------ */

static int vsas_topology(const void *row)
{
	const struct pers_info *p = row;
	char disk[32], path[128], val[64];
	int host, i;

	host = vp_up(p, "topo", NULL);
	if (host < 0)
		return CASE_FAIL;
	for (i = 0; i < p->ndevs; i++) {
		const struct vdev *d = &p->devs[i];

		CHECK(vsas_check_inquiry(host, d->ch, d->id, d->lun, "VSAS", d->model),
		      "INQUIRY of %u:%u:%llu", d->ch, d->id, d->lun);
		vsas_disk(host, d->ch, d->id, d->lun, disk, sizeof(disk));
		CHECK(disk[0], "no sd disk for %u:%u:%llu", d->ch, d->id, d->lun);
		CHECK(vsas_under_rphy(host, d->ch, d->id, d->lun) == (d->ch == 0),
		      "%u:%u:%llu: under an rphy must be %d", d->ch, d->id,
		      d->lun, d->ch == 0);
	}
	snprintf(path, sizeof(path), "/sys/class/scsi_host/host%d/proc_name", host);
	read_str(path, val, sizeof(val));
	CHECK(!strcmp(val, "vsas_") || !strncmp(val, "vsas_", 5), "proc_name %s", val);
	CHECK(CTR(host, "devs_added") == p->nvsas, "devs_added %lld, want %d",
	      CTR(host, "devs_added"), p->nvsas);
	CHECK(CTR(host, "scan_start") == (p->hooks ? 1 : 0), "scan_start %lld",
	      CTR(host, "scan_start"));
	CHECK(CTR(host, "scan_finished_done") == (p->hooks ? 1 : 0),
	      "scan_finished_done %lld", CTR(host, "scan_finished_done"));
	CHECK(CTR(host, "target_allocs_nonrphy") == p->nonrphy_at_load,
	      "target_allocs_nonrphy %lld, want %d",
	      CTR(host, "target_allocs_nonrphy"), p->nonrphy_at_load);
	CHECK(CTR(host, "absent_probes") == p->absent_at_load,
	      "absent_probes %lld, want %d", CTR(host, "absent_probes"),
	      p->absent_at_load);
	CHECK(CTR(host, "opcode_0x12") > 0, "no INQUIRY counted");
	CHECK(CTR(host, "opcode_0xa0") > 0, "no REPORT LUNS counted");
	/* counters reset */
	CHECK(vsas_reset_counters(host) == 0, "reset failed");
	CHECK(CTR(host, "devs_added") == 0 && CTR(host, "cmds") == 0,
	      "counters not reset");
	diag("%s host%d: %s", p->pers, host, p->want);
	vp_down("topo");
	return CASE_RESULT();
}

GUEST_CASE_PARAM(topology, vsas_topology, pers_table, pers_desc_direct)

/* ---- data ---------------------------------------------------------------- */

static int vsas_data(const void *row)
{
	const struct pers_info *p = row;
	char d0[32], d1[32], d2[32];
	long long w0, r0;
	int host;

	host = vp_up(p, "data", NULL);
	if (host < 0)
		return CASE_FAIL;
	vsas_disk(host, 0, 0, 0, d0, sizeof(d0));
	vsas_disk(host, 0, 0, 1, d1, sizeof(d1));
	vsas_disk(host, p->data_dev.ch, p->data_dev.id, p->data_dev.lun, d2,
		  sizeof(d2));
	if (!d0[0] || !d1[0] || !d2[0]) {
		diag("disks '%s' '%s' '%s'", d0, d1, d2);
		vp_down("data");
		return CASE_FAIL;
	}
	w0 = CTR(host, "opcode_0x2a");
	r0 = CTR(host, "opcode_0x28");
	CHECK(vsas_roundtrip(d0, 64, 0), "%s", d0);
	CHECK(vsas_roundtrip(d1, 1024, 4096), "%s", d1);
	CHECK(vsas_roundtrip(d2, 2048, 60000), "%s", d2);
	/* LUs are separate stores: LU 0's data is not LU 1's */
	CHECK(run("dd if=/dev/%s bs=1024 count=64 2>/dev/null | md5sum > /tmp/a; "
		  "dd if=/dev/%s bs=1024 count=64 2>/dev/null | md5sum > /tmp/b; "
		  "! cmp -s /tmp/a /tmp/b", d0, d1) == 0,
	      "LU 0 and LU 1 read the same data");
	/* the last block is addressable, one past it is not */
	CHECK(run("dd if=/dev/%s of=/dev/null bs=512 skip=131071 count=1 2>/dev/null", d2) == 0,
	      "last block unreadable");
	CHECK(CTR(host, "opcode_0x2a") > w0, "no WRITE(10) counted");
	CHECK(CTR(host, "opcode_0x28") > r0, "no READ(10) counted");
	CHECK(CTR(host, "opcode_0x35") > 0, "no SYNCHRONIZE CACHE counted");
	CHECK(CTR(host, "inflight") == 0, "inflight %lld", CTR(host, "inflight"));
	CHECK(CTR(host, "inflight_max") >= 1, "inflight_max %lld",
	      CTR(host, "inflight_max"));
	vp_down("data");
	return CASE_RESULT();
}

GUEST_CASE_PARAM(data, vsas_data, pers_table, pers_desc_direct)

/* ---- hot add / remove ---------------------------------------------------- */

/* The driver-level rescan a user can trigger for this personality. */
static int vp_rescan(const struct pers_info *p, int host)
{
	char path[128];

	if (p->rescan_attr) {
		snprintf(path, sizeof(path), "/sys/class/scsi_host/host%d/rescan", host);
		return write_str(path, "1");
	}
	if (p->hooks)		/* what a hook-calling user_scan would do */
		return vsas_call_scan(host, "start timeout=20000");
	return vsas_devcmd("hot", "rescan");	/* plain: vsas's own */
}

/* @base plus the words @extra, sorted by (channel, id, lun), into @want. */
static void sorted_with(char *want, size_t size, const char *base, const char *extra)
{
	char buf[1100];

	snprintf(buf, sizeof(buf), "%s %s", base, extra);
	/* sort tokens with the shell: simplest and exact */
	run_capture(want, size,
		    "for t in %s; do echo $t; done | sort -t: -k1,1n -k2,2n -k3,3n | tr '\\n' ' ' | sed 's/ $//'",
		    buf);
}

/* Noticed adds (ch 0: a new rphy, and a driver channel), then their removal. */
static void hot_noticed(const struct pers_info *p, int host)
{
	char want[512], cmd[128], extra[64], disk[32];
	unsigned int rid = p->next_rphy_id;

	CHECK(vsas_devcmd("hot", "add ch=0 model=HOTDISK") == 0, "add ch0");
	snprintf(cmd, sizeof(cmd), "add ch=%u id=9 vendor=HOTV", p->hot_ch);
	CHECK(vsas_devcmd("hot", cmd) == 0, "%s", cmd);
	snprintf(extra, sizeof(extra), "0:%u:0 %u:9:0", rid, p->hot_ch);
	sorted_with(want, sizeof(want), p->want, extra);
	CHECK(vsas_expect_devices(host, want, 10000), "noticed adds");
	CHECK(vsas_check_inquiry(host, 0, rid, 0, "VSAS", "HOTDISK"), "hot ch0");
	CHECK(vsas_check_inquiry(host, p->hot_ch, 9, 0, "HOTV", p->hot_model), "hot chX");
	CHECK(vsas_under_rphy(host, 0, rid, 0), "hot ch0 device not under an rphy");
	vsas_disk(host, p->hot_ch, 9, 0, disk, sizeof(disk));
	CHECK(disk[0] && vsas_roundtrip(disk, 64, 128), "hot-added disk data");

	snprintf(cmd, sizeof(cmd), "remove ch=0 id=%u", rid);
	CHECK(vsas_devcmd("hot", cmd) == 0, "%s", cmd);
	snprintf(cmd, sizeof(cmd), "remove ch=%u id=9", p->hot_ch);
	CHECK(vsas_devcmd("hot", cmd) == 0, "%s", cmd);
	CHECK(vsas_expect_devices(host, p->want, 10000), "noticed removes");
	CHECK(vsas_devcmd("hot", "flush") == 0, "flush");
	CHECK(CTR(host, "hotplug_events") == 4, "hotplug_events %lld",
	      CTR(host, "hotplug_events"));
	CHECK(CTR(host, "devs_added") == 2 && CTR(host, "devs_removed") == 2,
	      "devs_added %lld devs_removed %lld", CTR(host, "devs_added"),
	      CTR(host, "devs_removed"));
}

/* Silent add and remove: only the driver's rescan notices them. */
static void hot_silent(const struct pers_info *p, int host)
{
	char want[512], cmd[128], extra[32], dev0[32];
	long long before;

	/* silent add: nobody notices, "- - -" does not find it either */
	snprintf(cmd, sizeof(cmd), "add ch=%u id=10 mode=silent", p->hot_ch);
	CHECK(vsas_devcmd("hot", cmd) == 0, "%s", cmd);
	sleep_ms(1000);
	CHECK(scan_host(host, "- - -") == 0, "scan");
	CHECK(vsas_expect_devices(host, p->want, 500), "silent add became visible");
	CHECK(CTR(host, "hotplug_events") == 4, "silent add counted as event");
	/* ... until the driver rescans */
	CHECK(vp_rescan(p, host) == 0, "rescan");
	snprintf(extra, sizeof(extra), "%u:10:0", p->hot_ch);
	sorted_with(want, sizeof(want), p->want, extra);
	CHECK(vsas_expect_devices(host, want, 10000), "rescan did not find the silent add");

	/* silent remove: the device stays, its I/O fails */
	vsas_disk(host, p->hot_ch, 10, 0, dev0, sizeof(dev0));
	snprintf(cmd, sizeof(cmd), "remove ch=%u id=10 mode=silent", p->hot_ch);
	CHECK(vsas_devcmd("hot", cmd) == 0, "%s", cmd);
	sleep_ms(500);
	CHECK(vsas_expect_devices(host, want, 100), "silent remove was noticed");
	before = CTR(host, "absent_cmds");
	CHECK(dev0[0] && vsas_sg_read(dev0) != 0,
	      "READ(10) to a silently removed disk %s succeeded", dev0);
	CHECK(CTR(host, "absent_cmds") > before, "absent_cmds did not move");
	CHECK(vp_rescan(p, host) == 0, "rescan");
	CHECK(vsas_expect_devices(host, p->want, 10000), "rescan did not remove it");
}

static int vsas_hotplug(const void *row)
{
	const struct pers_info *p = row;
	int host;

	host = vp_up(p, "hot", NULL);
	if (host < 0)
		return CASE_FAIL;
	CHECK(vsas_reset_counters(host) == 0, "reset");
	hot_noticed(p, host);
	hot_silent(p, host);
	/* invalid commands change nothing */
	CHECK(vsas_devcmd("hot", "add ch=9") == -EINVAL, "ch 9");
	CHECK(vsas_devcmd("hot", "add ch=0 id=3") == -EINVAL, "ch0 with id");
	CHECK(vsas_devcmd("hot", "remove ch=1 id=12345") == -ENOENT, "remove unknown");
	CHECK(vsas_devcmd("hot", "frobnicate") == -EINVAL, "bad verb");
	CHECK(vsas_expect_devices(host, p->want, 100), "bad input changed devices");
	vp_down("hot");
	return CASE_RESULT();
}

GUEST_CASE_PARAM(hotplug, vsas_hotplug, pers_table, pers_desc_direct)

/* ---- runtime PM ------------------------------------------------------------ */

static bool wait_rpm(const char *pdev, const char *state, unsigned int ms)
{
	char path[600], have[32];

	snprintf(path, sizeof(path), "%s/power/runtime_status", pdev);
	for (;;) {
		read_str(path, have, sizeof(have));
		if (!strcmp(have, state))
			return true;
		if (ms < 50) {
			diag("%s is %s, want %s", path, have, state);
			return false;
		}
		sleep_ms(50);
		ms -= 50;
	}
}

/* Runtime PM allowed, the host suspends; I/O to @d0 (ch 0) and @dx resumes it. */
static void pm_io(const struct pers_info *p, int host, const char *pdev, const char *d0,
		  const char *dx)
{
	/* forbidden by default, like PCI: it stays active */
	sleep_ms(500);
	CHECK(wait_rpm(pdev, "active", 0), "suspended while forbidden");
	/* allow runtime PM everywhere: host device and every sdev */
	run("for d in /sys/class/scsi_device/%d:*/device/power;"
	    " do echo 200 > $d/autosuspend_delay_ms;"
	    " echo auto > $d/control; done;"
	    " echo auto > %s/power/control", host, pdev);
	CHECK(wait_rpm(pdev, "suspended", 15000), "host never suspended");
	CHECK(CTR(host, "runtime_suspends") >= 1, "runtime_suspends %lld",
	      CTR(host, "runtime_suspends"));

	/* I/O to a disk resumes the host */
	vsas_reset_counters(host);
	CHECK(d0[0] && vsas_read_disk(d0, 64, 1024) == 0, "read %s", d0);
	CHECK(wait_rpm(pdev, "active", 2000) || CTR(host, "runtime_resumes") >= 1,
	      "not resumed");
	CHECK(CTR(host, "runtime_resumes") >= 1, "runtime_resumes %lld",
	      CTR(host, "runtime_resumes"));
	diag("ch0 read: cmds_while_suspended %lld (ch0 targets hang off rphys: no runtime PM)",
	     CTR(host, "cmds_while_suspended"));

	/*
	 * A disk on another channel hangs off the host: resumed before I/O.
	 * Keep the ch 0 sdevs from suspending meanwhile: their sd runtime
	 * suspend (SYNCHRONIZE CACHE) reaches a suspended host, too.
	 */
	run("for d in /sys/class/scsi_device/%d:0:*/device/power; do echo on > $d/control; done",
	    host);
	if (p->data_dev.ch) {
		CHECK(wait_rpm(pdev, "suspended", 15000), "no second suspend");
		vsas_reset_counters(host);
		CHECK(dx[0] && vsas_read_disk(dx, 64, 2048) == 0, "read %s", dx);
		CHECK(CTR(host, "runtime_resumes") >= 1, "runtime_resumes %lld",
		      CTR(host, "runtime_resumes"));
		CHECK(CTR(host, "cmds_while_suspended") == 0,
		      "cmds_while_suspended %lld on ch%u",
		      CTR(host, "cmds_while_suspended"), p->data_dev.ch);
	}
}

static int vsas_pm(const void *row)
{
	static const char *const params[] = { "autosuspend_ms=200", NULL };
	const struct pers_info *p = row;
	char pdev[512], d0[32], dx[32];
	int host;

	host = vp_up(p, "pm", params);
	if (host < 0)
		return CASE_FAIL;
	if (vsas_pdev_path(host, pdev, sizeof(pdev))) {
		vp_down("pm");
		return CASE_FAIL;
	}
	vsas_disk(host, 0, 0, 0, d0, sizeof(d0));
	vsas_disk(host, p->data_dev.ch, p->data_dev.id, p->data_dev.lun, dx, sizeof(dx));
	pm_io(p, host, pdev, d0, dx);

	/* a scan request resumes it too (scsi_autopm_get_host) */
	CHECK(wait_rpm(pdev, "suspended", 15000), "no suspend before scan");
	vsas_reset_counters(host);
	CHECK(scan_host(host, "- - -") == 0, "scan");
	CHECK(CTR(host, "runtime_resumes") >= 1, "scan did not resume: %lld",
	      CTR(host, "runtime_resumes"));
	run("echo on > %s/power/control", pdev);
	vp_down("pm");
	return CASE_RESULT();
}

GUEST_CASE_PARAM(pm, vsas_pm, pers_table, pers_desc_direct)

/* ---- scan hooks ------------------------------------------------------------ */

static int vsas_scan_plain(const struct pers_info *p)
{
	int host = vp_up(p, "scan", NULL);

	if (host < 0)
		return CASE_FAIL;
	vsas_reset_counters(host);
	CHECK(vsas_call_scan(host, "start") == -EOPNOTSUPP, "call_scan on plain");
	CHECK(delete_all_devices(host) == 0, "delete");
	CHECK(vsas_expect_devices(host, "", 5000), "delete left devices");
	CHECK(scan_host(host, "- - -") == 0, "scan");
	CHECK(vsas_expect_devices(host, p->want, 100), "rescan result");
	CHECK(CTR(host, "absent_probes") == 0, "absent_probes %lld",
	      CTR(host, "absent_probes"));
	CHECK(CTR(host, "target_allocs_nonrphy") == 0, "nonrphy %lld",
	      CTR(host, "target_allocs_nonrphy"));
	CHECK(CTR(host, "target_allocs") == 3, "target_allocs %lld",
	      CTR(host, "target_allocs"));
	/* channel 1 and unknown ids: sas_user_scan() ignores them */
	CHECK(scan_host(host, "1 - -") == 0, "scan ch1");
	CHECK(scan_host(host, "0 77 0") == 0, "scan id 77");
	CHECK(CTR(host, "target_allocs") == 3, "target_allocs moved: %lld",
	      CTR(host, "target_allocs"));
	CHECK(scan_host(host, "- - - x") == -EINVAL, "bad scan string");
	vp_down("scan");
	return CASE_RESULT();
}

/* smartpqi / hpsa: a synchronous rescan; with scan_mutex held it would hang */
static int vsas_scan_sync(const struct pers_info *p)
{
	char want[512];
	int host = vp_up(p, "scan", NULL);

	if (host < 0)
		return CASE_FAIL;
	vsas_reset_counters(host);
	CHECK(vsas_devcmd("scan", "add ch=1 id=20 mode=silent") == 0, "silent add");
	sorted_with(want, sizeof(want), p->want, "1:20:0");
	CHECK(vsas_call_scan(host, "start") == 0, "call_scan");
	/* synchronous: there as soon as scan_finished said so */
	CHECK(vsas_expect_devices(host, want, 100), "not added synchronously");
	CHECK(CTR(host, "scan_start") == 1 && CTR(host, "scan_finished_done") == 1,
	      "scan_start %lld done %lld", CTR(host, "scan_start"),
	      CTR(host, "scan_finished_done"));
	CHECK(CTR(host, "rescans") == 1, "rescans %lld", CTR(host, "rescans"));
	CHECK(CTR(host, "scan_would_deadlock") == 0, "would_deadlock");
	CHECK(CTR(host, "fw_resets") == 0, "a driver rescan is no reset");

	/* the same from under the midlayer's scan_mutex */
	CHECK(vsas_devcmd("scan", "remove ch=1 id=20 mode=silent") == 0, "silent rm");
	CHECK(vsas_call_scan(host, "start locked timeout=20000") == 0, "locked call");
	CHECK(CTR(host, "scan_under_scan_mutex") == 1, "under_scan_mutex %lld",
	      CTR(host, "scan_under_scan_mutex"));
	CHECK(CTR(host, "scan_would_deadlock") == 1, "would_deadlock %lld",
	      CTR(host, "scan_would_deadlock"));
	CHECK(vsas_expect_devices(host, p->want, 10000), "deferred removal");
	CHECK(vsas_devcmd("scan", "flush") == 0, "flush");
	/* without changes there is nothing to deadlock on */
	CHECK(vsas_call_scan(host, "start locked") == 0, "locked call 2");
	CHECK(CTR(host, "scan_would_deadlock") == 1, "would_deadlock %lld",
	      CTR(host, "scan_would_deadlock"));
	CHECK(CTR(host, "scan_calls_concurrent_max") == 1, "concurrency %lld",
	      CTR(host, "scan_calls_concurrent_max"));
	vp_down("scan");
	return CASE_RESULT();
}

/* mpt3sas / mpi3mr: a runtime port enable re-initialises the firmware */
static int vsas_scan_pe(const struct pers_info *p)
{
	static const char *const params[] = { "scan_timeout_ms=3000", NULL };
	char d0[32], want[512], buf[32], path[64];
	int host = vp_up(p, "scan", params);

	if (host < 0)
		return CASE_FAIL;
	vsas_disk(host, 0, 0, 0, d0, sizeof(d0));
	vsas_reset_counters(host);
	/* slow I/O in flight while the port enable arrives */
	CHECK(vsas_set("scan", "io_delay_ms", "2000") == 0, "io_delay");
	run("(echo 3 > /proc/sys/vm/drop_caches;"
	    " dd if=/dev/%s of=/dev/null bs=4k count=1 skip=999 2>/dev/null;"
	    " echo $? > /tmp/ddrc) >/dev/null 2>&1 &", d0);
	sleep_ms(500);
	CHECK(CTR(host, "inflight") >= 1, "nothing in flight");
	CHECK(vsas_set("scan", "io_delay_ms", "0") == 0, "io_delay 0");
	CHECK(vsas_call_scan(host, "start timeout=20000") == 0, "call_scan");
	CHECK(CTR(host, "port_enables") == 1, "port_enables %lld",
	      CTR(host, "port_enables"));
	CHECK(CTR(host, "fw_resets") == 1, "fw_resets %lld", CTR(host, "fw_resets"));
	CHECK(CTR(host, "io_failed_by_reset") >= 1, "io_failed_by_reset %lld",
	      CTR(host, "io_failed_by_reset"));
	CHECK(CTR(host, "devs_rereported") == p->nvsas, "devs_rereported %lld",
	      CTR(host, "devs_rereported"));
	sleep_ms(3000);
	snprintf(path, sizeof(path), "/tmp/ddrc");
	diag("dd during the reset exited %lld (DID_RESET is retried)", read_ll(path));
	CHECK(vsas_expect_devices(host, p->want, 5000), "devices after re-init");

	/* under scan_mutex, with a device to add */
	vsas_reset_counters(host);
	CHECK(vsas_devcmd("scan", "add ch=0 mode=silent") == 0, "silent add");
	snprintf(buf, sizeof(buf), "0:%u:0", p->next_rphy_id);
	sorted_with(want, sizeof(want), p->want, buf);
	CHECK(vsas_call_scan(host, "start locked timeout=20000") == 0, "locked call");
	if (p->pe_stalls) {
		/* the add waits for scan_mutex, PORT_ENABLE_COMPLETE waits behind it */
		CHECK(CTR(host, "scan_timeouts") == 1, "scan_timeouts %lld",
		      CTR(host, "scan_timeouts"));
	} else {
		/* mpi3mr completes the port enable in a callback: no stall */
		CHECK(CTR(host, "scan_timeouts") == 0, "scan_timeouts %lld",
		      CTR(host, "scan_timeouts"));
	}
	CHECK(vsas_expect_devices(host, want, 10000), "added after the scan");
	/* a second port enable while one is pending is refused */
	vp_down("scan");
	return CASE_RESULT();
}

/* scan: what the personality's scan hooks do (none for plain) */
static int vsas_scan(const void *row)
{
	const struct pers_info *p = row;

	if (!p->hooks)
		return vsas_scan_plain(p);
	return p->rescan_attr ? vsas_scan_sync(p) : vsas_scan_pe(p);
}

GUEST_CASE_PARAM(scan, vsas_scan, pers_table, pers_desc_direct)

/* ---- control interface ------------------------------------------------------ */

GUEST_CASE(vsas_config_errors, "vsas configfs: bad input is -EINVAL and changes nothing")
{
	char path[256], buf[256];
	int host;

	if (vsas_load())
		return CASE_FAIL;
	snprintf(path, sizeof(path), VSAS_CFS "/personalities");
	CHECK(read_str(path, buf, sizeof(buf)) > 0 && strstr(buf, "mpi3mr") &&
	      strstr(buf, "pm8001"), "personalities: %s", buf);
	snprintf(path, sizeof(path), VSAS_CFS "/cfg");
	CHECK(mkdir(path, 0755) == 0, "mkdir");
	CHECK(vsas_set("cfg", "enable", "1") == -EINVAL, "enable without personality");
	CHECK(vsas_set("cfg", "personality", "nosuch") == -EINVAL, "bad personality");
	/* plain: "0:I" is bad input (hpsa's bus-0 controller, vsas_hpsa_bus0) */
	CHECK(vsas_set("cfg", "personality", "plain") == 0, "personality");
	CHECK(vsas_set("cfg", "max_channel", "x") == -EINVAL, "max_channel x");
	CHECK(vsas_set("cfg", "max_id", "-1") == -EINVAL, "max_id -1");
	CHECK(vsas_set("cfg", "num_phys", "99") == -EINVAL, "num_phys 99");
	CHECK(vsas_set("cfg", "topology", "0 9:1") == -EINVAL, "topology ch 9");
	CHECK(vsas_set("cfg", "topology", "0:1") == -EINVAL, "topology ch0 id");
	CHECK(vsas_set("cfg", "topology", "1") == -EINVAL, "topology ch1 no id");
	CHECK(vsas_set("cfg", "topology", "0 1:2/0") == -EINVAL, "0 LUNs");
	CHECK(vsas_set("cfg", "topology", "0 1:0:16383/2") == -EINVAL, "LUN past 0x3fff");
	CHECK(vsas_set("cfg", "topology", "0:0:1") == -EINVAL, "topology ch0 lun");
	CHECK(vsas_set("cfg", "report_luns", "some") == -EINVAL, "report_luns some");
	CHECK(vsas_set("cfg", "driver_state", "sleepy") == -EINVAL, "driver_state sleepy");
	snprintf(path, sizeof(path), VSAS_CFS "/cfg/devices");
	CHECK(read_str(path, buf, sizeof(buf)) == 0, "bad topology left devices: %s", buf);
	CHECK(vsas_set("cfg", "max_channel", "1") == 0, "max_channel 1");
	CHECK(vsas_set("cfg", "topology", "0 1:3") == 0, "topology");
	CHECK(vsas_set("cfg", "personality", "hpsa") == -EBUSY, "personality with devices");
	CHECK(vsas_set("cfg", "enable", "1") == 0, "enable");
	snprintf(path, sizeof(path), VSAS_CFS "/cfg/host_no");
	host = (int)read_ll(path);
	CHECK(host >= 0, "host_no %d", host);
	if (host >= 0) {
		snprintf(path, sizeof(path), "/sys/class/scsi_host/host%d/../../", host);
		CHECK(vsas_expect_devices(host, "0:0:0 1:3:0", 10000), "devices");
		snprintf(path, sizeof(path), VSAS_DBG "/host%d/state", host);
		CHECK(run("grep -qx 'max_channel 1' %s", path) == 0, "max_channel override");
		CHECK(vsas_set("cfg", "num_phys", "4") == -EBUSY, "num_phys while enabled");
		CHECK(vsas_set("cfg", "topology", "0") == -EBUSY, "topology while enabled");
	}
	vp_down("cfg");
	return CASE_RESULT();
}

/* ---- volumes: LUNs of a shared target (smartpqi, hpsa) ------------------- */

/* sg_luns -q of h:c:t:l as "L L ..." (hex), into @buf; the shell status */
static int report_luns_of(int host, unsigned int ch, unsigned int id, unsigned long long lun,
			  char *buf, size_t size)
{
	char disk[32], *p;
	size_t n;
	int rc;

	vsas_disk(host, ch, id, lun, disk, sizeof(disk));
	if (!disk[0]) {
		snprintf(buf, size, "(no disk)");
		return -ENODEV;
	}
	rc = run_capture(buf, size, "sg_luns -q /dev/%s 2>/dev/null", disk);
	for (p = buf; *p; p++)
		if (*p == '\n')
			*p = ' ';
	n = strlen(buf);
	while (n && buf[n - 1] == ' ')
		buf[--n] = '\0';
	return rc;
}

GUEST_CASE(vsas_volumes,
	   "vsas smartpqi: volumes are LUNs of shared targets, added and removed one by one; "
	   "REPORT LUNS all/self/none; driver_state and hidden are accepted")
{
	static const char *const want = "0:0:0 1:0:0 1:0:1 1:0:3 2:0:0 3:2:1";
	char buf[512], path[128];
	int host, rc;

	if (vsas_load())
		return CASE_FAIL;
	host = vsas_create("vol", "smartpqi", NULL, "0 1:0:0 1:0:1 1:0:3 2:0:0 3:2:1");
	CHECK(host >= 0, "creating the smartpqi host failed");
	if (host < 0)
		return CASE_FAIL;
	CHECK(vsas_expect_devices(host, want, 20000), "volumes at load");
	CHECK(vsas_counter(host, "absent_cmds") == 0 &&
	      vsas_counter(host, "absent_lun_probes") == 0,
	      "load probed absent addresses: absent_cmds %lld absent_lun_probes %lld",
	      vsas_counter(host, "absent_cmds"), vsas_counter(host, "absent_lun_probes"));
	CHECK(vsas_check_inquiry(host, 1, 0, 3, "VSAS", "LOGICAL VOLUME"), "1:0:3 inquiry");
	/* REPORT LUNS sent to volume 0 */
	report_luns_of(host, 1, 0, 0, buf, sizeof(buf));
	CHECK(!strcmp(buf, "0000000000000000 0001000000000000 0003000000000000"),
	      "report_luns=all: '%s'", buf);
	CHECK(vsas_set("vol", "report_luns", "self") == 0, "report_luns self");
	report_luns_of(host, 1, 0, 3, buf, sizeof(buf));
	CHECK(!strcmp(buf, "0003000000000000"), "report_luns=self: '%s'", buf);
	CHECK(vsas_set("vol", "report_luns", "none") == 0, "report_luns none");
	CHECK(report_luns_of(host, 1, 0, 0, buf, sizeof(buf)) != 0, "report_luns=none answered");
	CHECK(vsas_counter(host, "report_luns_refused") >= 1, "report_luns_refused not counted");
	snprintf(path, sizeof(path), VSAS_CFS "/vol/report_luns");
	CHECK(read_str(path, buf, sizeof(buf)) > 0 && !strncmp(buf, "none", 4), "read back '%s'",
	      buf);
	CHECK(vsas_set("vol", "report_luns", "all") == 0, "report_luns all");
	/* one volume leaves and comes back alone */
	CHECK(vsas_devcmd("vol", "remove ch=1 id=0 lun=1") == 0, "remove volume 1");
	CHECK(vsas_expect_devices(host, "0:0:0 1:0:0 1:0:3 2:0:0 3:2:1", 10000),
	      "only volume 1 removed");
	vsas_devcmd("vol", "flush");
	CHECK(vsas_devcmd("vol", "add ch=1 id=0 lun=3") == -EEXIST, "LUN 3 taken");
	CHECK(vsas_devcmd("vol", "add ch=1 id=0 lun=2 luns=2") == -EEXIST, "LUNs 2-3 overlap");
	rc = vsas_devcmd("vol", "add ch=1 id=0 lun=1");
	CHECK(rc == 0, "add volume 1: %d", rc);
	CHECK(vsas_expect_devices(host, want, 10000), "volume 1 back");
	/* LUN 0 gone, LUN 1 and 3 stay */
	CHECK(vsas_devcmd("vol", "remove ch=1 id=0 lun=0") == 0, "remove volume 0");
	CHECK(vsas_expect_devices(host, "0:0:0 1:0:1 1:0:3 2:0:0 3:2:1", 10000),
	      "only volume 0 removed");
	report_luns_of(host, 1, 0, 1, buf, sizeof(buf));
	CHECK(!strcmp(buf, "0001000000000000 0003000000000000"), "report_luns=all without 0: '%s'",
	      buf);
	/* driver-state knobs: accepted and shown */
	CHECK(vsas_set("vol", "driver_state", "reset") == 0, "driver_state reset");
	snprintf(path, sizeof(path), VSAS_DBG "/host%d/state", host);
	CHECK(run("grep -qx 'driver_state reset' %s", path) == 0, "state shows driver_state");
	CHECK(vsas_set("vol", "driver_state", "ok") == 0, "driver_state ok");
	CHECK(vsas_devcmd("vol", "set ch=1 id=0 lun=3 hidden=1") == 0, "set hidden");
	snprintf(path, sizeof(path), VSAS_CFS "/vol/devices");
	CHECK(run("grep -q 'ch=1 id=0 luns=1 lun=3 .*hidden=1' %s", path) == 0, "hidden listed");
	CHECK(vsas_devcmd("vol", "set ch=1 id=0 lun=9 hidden=1") == -ENOENT, "set of no volume");
	/* a volume LUN on a personality without volumes */
	CHECK(vsas_destroy("vol") == 0, "removing host vol failed");
	host = vsas_create("vol", "mpt3sas", NULL, "0 1:0:1");
	CHECK(host < 0, "mpt3sas accepted a RAID volume at LUN 1");
	if (host >= 0)
		vsas_destroy("vol");
	return CASE_RESULT();
}

/*
 * ---- ->user_scan_devices() on any kernel: debugfs scan_devices ------------
 * vsas' scan_devices runs the personality's hook and scans what it reports
 * as the fixed sas_user_scan() does (docs/design.md). It checks the
 * hook's reports on a kernel without the series; the real hook runs only on
 * a fixed kernel (the matrix's volume cells).
 */

static int sd_scan(int host, const char *req)
{
	char path[128];

	snprintf(path, sizeof(path), VSAS_DBG "/host%d/scan_devices", host);
	return write_str(path, req);
}

static void sd_delete(int host, const char *ctl)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/class/scsi_device/%d:%s/device/delete", host, ctl);
	if (write_str(path, "1"))
		diag("delete %d:%s failed", host, ctl);
}

/* delete the devices on channels >= 1 */
static void sd_delete_volumes(int host)
{
	struct scsi_addr devs[64];
	char ctl[64];
	int n = host_devices(host, devs, 64), i;

	for (i = 0; i < n; i++)
		if (devs[i].channel) {
			snprintf(ctl, sizeof(ctl), "%u:%u:%llu", devs[i].channel, devs[i].id,
				 devs[i].lun);
			sd_delete(host, ctl);
		}
}

/* commands to addresses no device holds, and probes of targets nobody knows */
static long long sd_absent(int host)
{
	return vsas_counter(host, "absent_cmds") + vsas_counter(host, "absent_probes");
}

/* hpsa volumes: every report_luns option, LUN 0 and LUN > 0 */
static bool sd_volumes(const char *pers)
{
	static const char *const rls[] = { "all", "self", "none" };
	static const char *const all = "0:0:0 1:0:0 1:0:1 1:0:2 2:0:0 3:0:0";
	int host = vsas_create("sd", pers, NULL, "0 1:0:0 1:0:1 1:0:2 2:0:0 3:0:0"), rc;
	char path[128];
	unsigned int i;

	CHECK(host >= 0, "%s host", pers);
	if (host < 0)
		return false;
	CHECK(vsas_expect_devices(host, all, 20000), "%s at load", pers);
	for (i = 0; i < 3; i++) {
		CHECK(vsas_set("sd", "report_luns", rls[i]) == 0, "report_luns %s", rls[i]);
		vsas_reset_counters(host);
		sd_delete(host, "1:0:0");
		CHECK(sd_scan(host, "- - -") == 0, "scan_devices");
		CHECK(vsas_expect_devices(host, all, 5000), "%s %s: LUN 0 back", pers, rls[i]);
		sd_delete(host, "1:0:2");
		CHECK(sd_scan(host, "1 - -") == 0, "scan_devices 1");
		CHECK(vsas_expect_devices(host, all, 5000), "%s %s: LUN 2 back", pers, rls[i]);
		sd_delete_volumes(host);
		CHECK(sd_scan(host, "- - -") == 0, "scan_devices");
		CHECK(vsas_expect_devices(host, all, 5000), "%s %s: all back", pers, rls[i]);
		CHECK(sd_absent(host) == 0, "%s %s: %lld absent commands/probes", pers, rls[i],
		      sd_absent(host));
	}
	/* requests select entries: "2 - -" and "1 0 1" */
	sd_delete_volumes(host);
	CHECK(sd_scan(host, "2 - -") == 0, "scan_devices 2");
	CHECK(vsas_expect_devices(host, "0:0:0 2:0:0", 5000), "%s: only ch 2", pers);
	CHECK(sd_scan(host, "1 0 1") == 0, "scan_devices 1 0 1");
	CHECK(vsas_expect_devices(host, "0:0:0 1:0:1 2:0:0", 5000), "%s: only 1:0:1", pers);
	/* driver states: -EBUSY, nothing exposed */
	CHECK(vsas_set("sd", "driver_state", "reset") == 0, "reset");
	rc = sd_scan(host, "- - -");
	CHECK(rc == -EBUSY, "%s in reset: rc %d", pers, rc);
	CHECK(vsas_set("sd", "driver_state", "discovery") == 0, "discovery");
	CHECK(sd_scan(host, "- - -") == -EBUSY, "%s in discovery", pers);
	CHECK(vsas_expect_devices(host, "0:0:0 1:0:1 2:0:0", 1000), "%s: busy exposed", pers);
	CHECK(vsas_set("sd", "driver_state", "ok") == 0, "ok");
	/* a hidden volume is not reported */
	CHECK(vsas_devcmd("sd", "set ch=1 id=0 lun=2 hidden=1") == 0, "hide");
	CHECK(sd_scan(host, "- - -") == 0, "scan_devices");
	CHECK(vsas_expect_devices(host, "0:0:0 1:0:0 1:0:1 2:0:0 3:0:0", 5000), "%s: hidden",
	      pers);
	/*
	 * Why per LUN: the firmware loses volume 0; a whole-target scan of
	 * (1, 0) probes LUN 0 (no device: DID_NO_CONNECT) and stops, volume 1
	 * stays lost; the per-LUN reports bring it back.
	 */
	CHECK(vsas_devcmd("sd", "remove ch=1 id=0 lun=0") == 0, "remove volume 0");
	CHECK(vsas_expect_devices(host, "0:0:0 1:0:1 2:0:0 3:0:0", 5000), "volume 0 gone");
	sd_delete(host, "1:0:1");
	vsas_reset_counters(host);
	snprintf(path, sizeof(path), VSAS_DBG "/host%d/scan_generic", host);
	CHECK(write_str(path, "1 0 -") == 0, "generic 1 0 -");
	CHECK(vsas_expect_devices(host, "0:0:0 2:0:0 3:0:0", 2000),
	      "%s: a whole-target scan found volume 1 without LUN 0", pers);
	diag("%s: whole-target scan of (1, 0) without LUN 0: absent_cmds %lld", pers,
	     vsas_counter(host, "absent_cmds"));
	vsas_reset_counters(host);
	CHECK(sd_scan(host, "- - -") == 0, "scan_devices");
	CHECK(vsas_expect_devices(host, "0:0:0 1:0:1 2:0:0 3:0:0", 5000), "%s: volume 1 back",
	      pers);
	CHECK(sd_absent(host) == 0, "%s: %lld absent commands/probes", pers, sd_absent(host));
	CHECK(vsas_destroy("sd") == 0, "remove sd");
	return true;
}

/*
 * smartpqi: no hook, and a user's delete makes the driver forget the volume
 * (pqi_slave_destroy()): a user scan reports nothing and brings nothing
 * back; the host's rescan attribute (the driver's own scan) does.
 */
static void sd_smartpqi(void)
{
	static const char *const all = "0:0:0 1:0:0 1:0:1 1:0:2 2:0:0 3:0:0";
	int host = vsas_create("sd", "smartpqi", NULL, "0 1:0:0 1:0:1 1:0:2 2:0:0 3:0:0");
	char path[128];

	CHECK(host >= 0, "smartpqi host");
	if (host < 0)
		return;
	CHECK(vsas_expect_devices(host, all, 20000), "smartpqi at load");
	snprintf(path, sizeof(path), "/sys/class/scsi_host/host%d/rescan", host);
	vsas_reset_counters(host);
	sd_delete(host, "1:0:0");
	CHECK(vsas_counter(host, "devs_forgotten") == 1, "smartpqi: forgotten %lld",
	      vsas_counter(host, "devs_forgotten"));
	CHECK(vsas_devcmd("sd", "flush") == 0, "flush");
	CHECK(run("grep -q 'ch=1 id=0 luns=1 lun=0 .*state=fw-only' " VSAS_CFS "/sd/devices")
	      == 0, "smartpqi: the deleted volume is no longer listed");
	CHECK(sd_scan(host, "- - -") == 0, "scan_devices");
	CHECK(vsas_counter(host, "user_scan_reports") == 0, "smartpqi has no hook: %lld reports",
	      vsas_counter(host, "user_scan_reports"));
	CHECK(vsas_expect_devices(host, "0:0:0 1:0:1 1:0:2 2:0:0 3:0:0", 2000),
	      "smartpqi: a user scan brought a forgotten volume back");
	CHECK(write_str(path, "1") == 0, "rescan attribute");
	CHECK(vsas_expect_devices(host, all, 5000), "smartpqi: rescan attribute, volume back");
	sd_delete_volumes(host);
	/* cumulative: 1:0:0 above, now all five on channels >= 1 */
	CHECK(vsas_counter(host, "devs_forgotten") == 6, "smartpqi: forgotten %lld",
	      vsas_counter(host, "devs_forgotten"));
	CHECK(scan_host(host, "- - -") == 0, "scan");
	CHECK(vsas_expect_devices(host, "0:0:0", 2000), "smartpqi: '- - -' found forgotten ones");
	CHECK(write_str(path, "1") == 0, "rescan attribute");
	CHECK(vsas_expect_devices(host, all, 5000), "smartpqi: rescan attribute, all back");
	CHECK(vsas_counter(host, "absent_cmds") == 0, "smartpqi: absent_cmds %lld",
	      vsas_counter(host, "absent_cmds"));
	CHECK(vsas_destroy("sd") == 0, "remove sd");
}

#define SD_WHAT "vsas ->user_scan_devices() reports (emulated transport): hpsa per LUN, " \
	"mpt3sas LUN 0 without blocked, mpi3mr wildcard host_exposed; -EBUSY by state; " \
	"smartpqi none (forgets deleted volumes, its rescan attribute adds them)"

GUEST_CASE(vsas_scan_devices_emulated, SD_WHAT)
{
	char want[128];
	int host, rc;

	if (vsas_load())
		return CASE_FAIL;
	sd_smartpqi();
	sd_volumes("hpsa");

	/* mpt3sas: a BLOCKED PCIe device is listed, never added, never reported */
	host = vsas_create("sd", "mpt3sas", NULL, "0 1:0 2:0");
	CHECK(host >= 0, "mpt3sas host");
	if (host < 0)
		return CASE_FAIL;
	CHECK(vsas_expect_devices(host, "0:0:0 1:0:0 2:0:0", 20000), "mpt3sas at load");
	CHECK(vsas_devcmd("sd", "add ch=2 id=5 blocked=1") == 0, "add blocked");
	vsas_devcmd("sd", "flush");
	sd_delete_volumes(host);
	CHECK(vsas_set("sd", "driver_state", "discovery") == 0, "discovery");
	CHECK(sd_scan(host, "- - -") == -EBUSY, "mpt3sas in discovery");
	CHECK(vsas_set("sd", "driver_state", "ok") == 0, "ok");
	vsas_reset_counters(host);
	CHECK(sd_scan(host, "- - -") == 0, "scan_devices");
	CHECK(vsas_expect_devices(host, "0:0:0 1:0:0 2:0:0", 5000), "mpt3sas: blocked skipped");
	CHECK(vsas_counter(host, "user_scan_entries") == 2, "mpt3sas entries %lld",
	      vsas_counter(host, "user_scan_entries"));
	CHECK(vsas_destroy("sd") == 0, "remove sd");

	/* mpi3mr: whole targets; one added in reset stays unexposed until the refresh */
	host = vsas_create("sd", "mpi3mr", NULL, "0 1:0 1:1/2");
	CHECK(host >= 0, "mpi3mr host");
	if (host < 0)
		return CASE_FAIL;
	snprintf(want, sizeof(want), "0:0:0 1:0:0 1:1:0 1:1:1");
	CHECK(vsas_expect_devices(host, want, 20000), "mpi3mr at load");
	CHECK(vsas_set("sd", "report_luns", "none") == 0, "report_luns none");
	sd_delete_volumes(host);
	vsas_reset_counters(host);
	CHECK(sd_scan(host, "- - -") == 0, "scan_devices");
	CHECK(vsas_expect_devices(host, want, 5000), "mpi3mr: targets back (sequential scan)");
	CHECK(vsas_counter(host, "user_scan_entries") == 2, "mpi3mr entries %lld",
	      vsas_counter(host, "user_scan_entries"));
	CHECK(vsas_counter(host, "absent_cmds") == 0, "mpi3mr absent_cmds %lld",
	      vsas_counter(host, "absent_cmds"));
	CHECK(vsas_set("sd", "driver_state", "reset") == 0, "reset");
	CHECK(vsas_devcmd("sd", "add ch=1 id=5") == 0, "add in reset");
	vsas_devcmd("sd", "flush");
	CHECK(vsas_expect_devices(host, want, 1000), "mpi3mr: nothing exposed in reset");
	rc = sd_scan(host, "- - -");
	CHECK(rc == -EBUSY, "mpi3mr in reset: rc %d", rc);
	CHECK(vsas_set("sd", "driver_state", "discovery") == 0, "discovery");
	CHECK(sd_scan(host, "- - -") == 0, "mpi3mr reports in discovery");
	CHECK(vsas_expect_devices(host, want, 2000), "mpi3mr: not host_exposed, not reported");
	CHECK(vsas_set("sd", "driver_state", "reset") == 0, "reset again");
	CHECK(vsas_set("sd", "driver_state", "ok") == 0, "ok: the refresh exposes it");
	CHECK(vsas_expect_devices(host, "0:0:0 1:0:0 1:1:0 1:1:1 1:5:0", 5000),
	      "mpi3mr: exposed after the reset");
	CHECK(vsas_destroy("sd") == 0, "remove sd");
	return CASE_RESULT();
}

/*
 * hpsa's controller on bus 0 (INQUIRY version neither 0 nor 5): added with
 * scsi_add_device() at (0, 0, lun), not an rphy, and reported by the hook;
 * real hpsa could not expose an rphy beside it (both are target 0:0).
 */
#define B0_WHAT "vsas hpsa: a controller on bus 0 is a driver-added LUN, not an rphy; " \
	"reported and scanned back; no rphy beside it; other personalities refuse it"

GUEST_CASE(vsas_hpsa_bus0, B0_WHAT)
{
	static const char *const all = "0:0:0 1:0:0 1:0:1 2:0:0";
	int host, rc;

	if (vsas_load())
		return CASE_FAIL;
	host = vsas_create("b0", "hpsa", NULL, "1:0:0 1:0:1 2:0:0 0:0:0");
	CHECK(host >= 0, "hpsa host with a bus-0 controller");
	if (host < 0)
		return CASE_FAIL;
	CHECK(vsas_expect_devices(host, all, 20000), "at load");
	CHECK(!vsas_under_rphy(host, 0, 0, 0), "the bus-0 controller sits under an rphy");
	CHECK(vsas_check_inquiry(host, 0, 0, 0, "VSAS", "HBA CTRL"), "0:0:0 inquiry");
	CHECK(run("grep -q 'ch=0 id=0 luns=1 lun=0 .*phy=-1 ' " VSAS_CFS "/b0/devices") == 0,
	      "listed on bus 0 without a PHY");
	rc = vsas_devcmd("b0", "add ch=0");
	CHECK(rc == -EINVAL, "an rphy beside the bus-0 controller: %d", rc);
	rc = vsas_devcmd("b0", "add ch=0 id=0");
	CHECK(rc == -EEXIST, "the controller's LUN 0 added twice: %d", rc);
	vsas_reset_counters(host);
	sd_delete(host, "0:0:0");
	sd_delete(host, "1:0:0");
	CHECK(sd_scan(host, "0 - -") == 0, "scan_devices 0 - -");
	CHECK(vsas_expect_devices(host, "0:0:0 1:0:1 2:0:0", 5000),
	      "'0 - -' brings the controller back, and only it");
	sd_delete(host, "0:0:0");
	sd_delete_volumes(host);
	CHECK(sd_scan(host, "- - -") == 0, "scan_devices - - -");
	CHECK(vsas_expect_devices(host, all, 5000), "all back by '- - -'");
	CHECK(sd_absent(host) == 0, "%lld absent commands/probes", sd_absent(host));
	CHECK(vsas_destroy("b0") == 0, "remove b0");
	/* a failed creation leaves its configfs directory: removed each time */
	host = vsas_create("b0", "hpsa", NULL, "0 0:0:0");
	CHECK(host < 0, "hpsa accepted an rphy beside a bus-0 controller");
	CHECK(vsas_destroy("b0") == 0, "remove b0");
	host = vsas_create("b0", "mpt3sas", NULL, "0:0:0");
	CHECK(host < 0, "mpt3sas accepted a bus-0 device");
	CHECK(vsas_destroy("b0") == 0, "remove b0");
	return CASE_RESULT();
}

/* ---- the generic scan (scsi_scan_host_selected() with the host as parent) --- */

static int vsas_generic(const void *row)
{
	const struct pers_info *p = row;
	const struct gen *g = p->gen;
	int n = p->ngen;
	char path[128];
	int host = vp_up(p, "gen", NULL), i, rc;

	if (host < 0)
		return CASE_FAIL;
	snprintf(path, sizeof(path), VSAS_DBG "/host%d/scan_generic", host);
	for (i = 0; i < n; i++) {
		vsas_reset_counters(host);
		rc = write_str(path, g[i].req);
		CHECK(rc == g[i].rc, "'%s' returned %d, want %d", g[i].req, rc, g[i].rc);
		CHECK(CTR(host, g[i].ctr) == g[i].want, "'%s': %s %lld, want %lld",
		      g[i].req, g[i].ctr, CTR(host, g[i].ctr), g[i].want);
		diag("%s '%s': absent_probes %lld target_allocs_nonrphy %lld cmds %lld",
		     p->pers, g[i].req, CTR(host, "absent_probes"),
		     CTR(host, "target_allocs_nonrphy"), CTR(host, "cmds"));
	}
	CHECK(vsas_expect_devices(host, p->want, 100), "the generic scan changed devices");
	vp_down("gen");
	return CASE_RESULT();
}

GUEST_CASE_PARAM(generic, vsas_generic, pers_table, pers_desc_direct)

/* ---- module parameters ---------------------------------------------------------- */

GUEST_CASE(vsas_module_params, "vsas: hosts= and topology= create hosts at load, removed at unload")
{
	int hosts[8], n;

	CHECK(unload_module("vsas") == 0, "rmmod vsas");
	if (run("modprobe vsas hosts=plain,mpi3mr topology='0 0 1:2' io_delay_ms=0")) {
		diag("modprobe with hosts= failed");
		return CASE_FAIL;
	}
	n = find_hosts("vsas_mpi3mr", hosts, 8);
	CHECK(n == 1, "%d mpi3mr hosts", n);
	if (n == 1)
		CHECK(vsas_expect_devices(hosts[0], "0:0:0 0:1:0 1:2:0", 10000), "mpi3mr");
	/* plain has no channel-1 driver devices: "1:2" is added by scsi_add_device */
	n = find_hosts("vsas_plain", hosts, 8);
	CHECK(n == 1, "%d plain hosts", n);
	if (n == 1)
		CHECK(vsas_expect_devices(hosts[0], "0:0:0 0:1:0 1:2:0", 10000), "plain");
	CHECK(unload_module("vsas") == 0, "rmmod vsas with hosts");
	CHECK(find_host("vsas_plain") < 0, "host left after rmmod");
	CHECK(run("modprobe vsas hosts=nosuch 2>/dev/null") != 0, "bad hosts= accepted");
	CHECK(vsas_load() == 0, "modprobe vsas");
	return CASE_RESULT();
}

/* ---- the lab registry's report (lab/personalities.py) ---------------------- */

#define REG_TAG "VSAS-PERSONALITIES"
#define REG_HOST "registry"
#define REG_MAX_PERS 32
#define REG_NAME_MAX 32

static const char *const reg_limits[] = { "max_channel", "max_id", "max_lun" };
#define REG_NLIMITS (sizeof(reg_limits) / sizeof(reg_limits[0]))

/*
 * configfs vsas/personalities (one name a line) into @buf, split in place:
 * @names[@max] point into it. The count, or -1 (diagnosed) if it cannot be
 * read, is empty, too long or has a name that is not [a-z0-9_].
 */
static int reg_personalities(char *buf, size_t size, char **names, int max)
{
	char *line, *save = NULL;
	int rc, n = 0;

	rc = read_str(VSAS_CFS "/personalities", buf, size);
	CHECK(rc > 0 && (size_t)rc < size - 1, "read " VSAS_CFS "/personalities: %d", rc);
	if (rc <= 0 || (size_t)rc >= size - 1)
		return -1;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		size_t len = strlen(line);
		size_t ok = strspn(line, "abcdefghijklmnopqrstuvwxyz0123456789_");

		CHECK(n < max, "more than %d personalities", max);
		CHECK(len > 0 && len < REG_NAME_MAX && ok == len,
		      "bad personality name '%s'", line);
		if (case_failed)
			return -1;
		names[n++] = line;
	}
	return n;
}

/* Host REG_HOST's attribute @attr, a decimal number; 0 or -1 (CHECK failed). */
static int reg_read_u64(const char *attr, unsigned long long *v)
{
	char path[128], buf[32], *end = NULL;
	int rc;

	snprintf(path, sizeof(path), VSAS_CFS "/" REG_HOST "/%s", attr);
	rc = read_str(path, buf, sizeof(buf));
	errno = 0;
	if (rc > 0 && buf[0] >= '0' && buf[0] <= '9')
		*v = strtoull(buf, &end, 10);
	CHECK(end && !*end && !errno, "%s: read %d '%s'", path, rc, buf);
	return end && !*end && !errno ? 0 : -1;
}

/*
 * The limits of a host just given personality @pers, as member @pers of the
 * record's "hosts": mkdir, write the personality, read them back, rmdir.
 * The host is never enabled. 0, or -1 (CHECK failed, nothing added).
 */
static int reg_host(struct jrec *r, const char *pers)
{
	const char *dir = VSAS_CFS "/" REG_HOST;
	unsigned long long v[REG_NLIMITS];
	char got[REG_NAME_MAX + 8];
	size_t i;
	int rc;

	if (mkdir(dir, 0755)) {
		rc = errno;
		CHECK(0, "mkdir %s: %s", dir, strerror(rc));
		return -1;
	}
	rc = vsas_set(REG_HOST, "personality", pers);
	CHECK(!rc, "%s: personality %s: %s", dir, pers, strerror(-rc));
	if (!rc) {
		read_str(VSAS_CFS "/" REG_HOST "/personality", got, sizeof(got));
		rc = strcmp(got, pers) ? -1 : 0;
		CHECK(!rc, "%s: personality reads '%s', wrote %s", dir, got, pers);
	}
	for (i = 0; !rc && i < REG_NLIMITS; i++)
		rc = reg_read_u64(reg_limits[i], &v[i]);
	if (rmdir(dir)) {
		int err = errno;

		CHECK(0, "rmdir %s: %s", dir, strerror(err));
		rc = -1;
	}
	if (rc)
		return -1;
	jrec_begin(r, pers, '{');
	for (i = 0; i < REG_NLIMITS; i++)
		jrec_uint(r, reg_limits[i], v[i]);
	jrec_end(r);
	return 0;
}

/*
 * Which of @names[@n] /proc/kallsyms lists (exact names, any module), into
 * @found; -1 if it cannot be read.
 */
static int kallsyms_find(const char *const *names, bool *found, int n)
{
	char line[512], sym[256];
	bool mid = false, skip;
	FILE *f = fopen("/proc/kallsyms", "r");
	int i, left = n;

	for (i = 0; i < n; i++)
		found[i] = false;
	if (!f)
		return -1;
	while (left && fgets(line, sizeof(line), f)) {
		skip = mid;	/* the rest of a line longer than @line */
		mid = !strchr(line, '\n');
		if (skip || sscanf(line, "%*s %*s %255s", sym) != 1)
			continue;
		for (i = 0; i < n; i++) {
			if (!found[i] && !strcmp(sym, names[i])) {
				found[i] = true;
				left--;
			}
		}
	}
	fclose(f);
	return 0;
}

/*
 * Has the running kernel the fix series' ->user_scan_devices()? Its
 * scsi_transport_sas exports sas_scan_report_device() (docs/design.md).
 * 1 or 0 when /proc/kallsyms lists scsi_transport_sas (sas_attach_transport,
 * loaded with vsas); -1 (keys omitted) when it cannot tell. *@vsas: vsas has
 * its hook (vsas_user_scan_devices), -1 if vsas is not listed.
 */
static int reg_user_scan_devices(int *vsas)
{
	static const char *const syms[] = {
		"sas_attach_transport", "sas_scan_report_device",
		"vsas_find_personality", "vsas_user_scan_devices",
	};
	bool found[sizeof(syms) / sizeof(syms[0])];

	*vsas = -1;
	if (kallsyms_find(syms, found, (int)(sizeof(syms) / sizeof(syms[0]))) || !found[0]) {
		diag("user_scan_devices: /proc/kallsyms does not list %s, key omitted", syms[0]);
		return -1;
	}
	if (found[2])
		*vsas = found[3];
	return found[1];
}

GUEST_CASE(vsas_registry_report,
	   "vsas: report each personality's limits for the lab registry check")
{
	char list[4096], *names[REG_MAX_PERS];
	struct jrec r;
	int i, n, usd, vusd;

	if (vsas_load())
		return CASE_FAIL;
	CHECK(!path_exists(VSAS_CFS "/" REG_HOST), VSAS_CFS "/" REG_HOST " exists already");
	if (case_failed)
		return CASE_FAIL;
	n = reg_personalities(list, sizeof(list), names, REG_MAX_PERS);
	if (n < 0)
		return CASE_FAIL;
	usd = reg_user_scan_devices(&vusd);
	jrec_init(&r, REG_TAG);
	jrec_begin(&r, "personalities", '[');
	for (i = 0; i < n; i++)
		jrec_str(&r, NULL, names[i]);
	jrec_end(&r);
	if (usd >= 0)
		jrec_int(&r, "user_scan_devices", usd);
	if (usd >= 0 && vusd >= 0)
		jrec_int(&r, "vsas_user_scan_devices", vusd);
	jrec_begin(&r, "hosts", '{');
	for (i = 0; i < n; i++)
		if (reg_host(&r, names[i]))
			break;
	jrec_end(&r);
	if (case_failed) {
		diag(REG_TAG " record not printed: a configfs step failed");
		return CASE_FAIL;
	}
	jrec_emit(&r);
	return CASE_RESULT();
}
