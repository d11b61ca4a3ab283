// SPDX-License-Identifier: GPL-2.0
/*
 * Real clients: what administrators run instead of writing to sysfs.
 *
 * sg3_utils' rescan-scsi-bus.sh (always with --hosts=<the vsas host>, so it
 * never looks at another host) is run in the ways users run it, and lsscsi's
 * list is compared with sysfs and with the devices the emulated firmware
 * has. Every run prints one record
 *
 *   # CLIENT {"case": ..., "mode": ..., "expected": "c:i:l ...", "found": ...,
 *             "lsscsi_agrees": 0|1, "rc": ..., "elapsed_ms": ...,
 *             "absent_probes": ..., "resets": ...}
 *
 * and the case fails if lsscsi and sysfs disagree, the tool fails, a device
 * is lost or present that the firmware does not have, -r leaves a vanished
 * device, or "-a --channels=0-3" (everything, on every channel the drivers
 * use) misses a device the firmware has: on a stock kernel it misses every
 * device off channel 0 (sas_user_scan() only rescans channel 0).
 *
 * rescan-scsi-bus.sh needs GNU find (-printf) in the guest: busybox's find
 * makes it miss every existing target silently (see docs/debian-kernel.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "guest.h"
#include "vsas_util.h"

#define LIST_MAX 8192
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct addr_list {
	int n;
	struct scsi_addr a[512];
};

static void add_addr(struct addr_list *l, unsigned int c, unsigned int i,
		     unsigned long long lun)
{
	if (l->n >= (int)ARRAY_SIZE(l->a))
		return;
	l->a[l->n].channel = c;
	l->a[l->n].id = i;
	l->a[l->n].lun = lun;
	l->n++;
}

/* The host's devices as lsscsi lists them: "[h:c:t:l]  disk ..." lines. */
static int lsscsi_list(int host, char *buf, size_t size)
{
	static char out[65536];
	struct addr_list l = { 0 };
	unsigned int h, c, i;
	unsigned long long lun;
	char *line, *save;
	int rc;

	rc = run_capture(out, sizeof(out), "lsscsi %d:*:*:* 2>&1", host);
	for (line = strtok_r(out, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		if (sscanf(line, "[%u:%u:%u:%llu]", &h, &c, &i, &lun) == 4 &&
		    (int)h == host)
			add_addr(&l, c, i, lun);
	addr_string(l.a, l.n, buf, size);
	return rc;
}

static void sysfs_list(int host, char *buf, size_t size)
{
	static struct scsi_addr devs[MAX_DEVS];
	struct addr_list l = { 0 };
	int n, i;

	n = host_devices(host, devs, MAX_DEVS);
	for (i = 0; i < n; i++)
		add_addr(&l, devs[i].channel, devs[i].id, devs[i].lun);
	addr_string(l.a, l.n, buf, size);
}

/*
 * The firmware's devices (vsas "devices": known and plugged in), optionally
 * only channel ch (-1: all).
 */
static void firmware_list(const char *name, int ch, char *buf, size_t size)
{
	static char text[LIST_MAX];
	struct addr_list l = { 0 };
	unsigned int c, i, luns, lun;
	char path[256], *line, *save;
	int dev;

	snprintf(path, sizeof(path), VSAS_CFS "/%s/devices", name);
	if (read_str(path, text, sizeof(text)) < 0)
		text[0] = '\0';
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "dev=%d ch=%u id=%u luns=%u", &dev, &c, &i, &luns) != 4)
			continue;
		if (strstr(line, "state=gone") || strstr(line, "state=fw-only"))
			continue;
		if (ch >= 0 && (int)c != ch)
			continue;
		for (lun = 0; lun < luns; lun++)
			add_addr(&l, c, i, lun);
	}
	addr_string(l.a, l.n, buf, size);
}

/* Is every address of want in have? */
static bool contains(const char *have, const char *want)
{
	char copy[LIST_MAX], padded[LIST_MAX + 2], tok[40], *t, *save;

	snprintf(copy, sizeof(copy), "%s", want);
	snprintf(padded, sizeof(padded), " %s ", have);
	for (t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		snprintf(tok, sizeof(tok), " %s ", t);
		if (!strstr(padded, tok))
			return false;
	}
	return true;
}

/* One channel-C device of the host (the first LUN-0 sdev), or false. */
static bool pick_device(int host, int ch, unsigned int *id)
{
	static struct scsi_addr devs[MAX_DEVS];
	int n, i;

	n = host_devices(host, devs, MAX_DEVS);
	for (i = n - 1; i >= 0; i--)
		if ((int)devs[i].channel == ch && devs[i].lun == 0) {
			*id = devs[i].id;
			return true;
		}
	return false;
}

static int delete_device(int host, int ch, unsigned int id)
{
	static struct scsi_addr devs[MAX_DEVS];
	char path[256];
	int n, i, bad = 0;

	n = host_devices(host, devs, MAX_DEVS);
	for (i = 0; i < n; i++) {
		if ((int)devs[i].channel != ch || devs[i].id != id)
			continue;
		snprintf(path, sizeof(path),
			 "/sys/class/scsi_device/%d:%u:%u:%llu/device/delete",
			 host, devs[i].channel, devs[i].id, devs[i].lun);
		bad |= write_str(path, "1") != 0;
	}
	return bad ? -1 : 0;
}

enum prep { PREP_NONE, PREP_DELETE_ALL, PREP_DELETE_ONE, PREP_SILENT_REMOVE };

struct client_run {
	const char *mode;	/* short name for the record */
	const char *opts;	/* rescan-scsi-bus.sh options; %d: the chosen id */
	enum prep prep;
	bool full;		/* a request for everything: must find every device */
};

/*
 * Run rescan-scsi-bus.sh once on a fresh host. Every run must succeed, keep
 * the devices the preparation left (the script rescans existing targets),
 * add nothing the firmware does not have, and remove what the firmware lost
 * (-r); "full" requests must also find every device the firmware has. What
 * else a run finds or misses is recorded, not judged: that is the tool's
 * documented scope per option.
 */
static void client_run(const char *pers, const char *topo, const struct client_run *r,
		       int max_channel)
{
	char name[64], opts[128], want[LIST_MAX], found[LIST_MAX], ls[LIST_MAX];
	char keep[LIST_MAX];
	static char out[16384];
	char cmd[256];
	unsigned int id = 0;
	long long t0, absent, resets;
	int host, rc, ch = max_channel;

	snprintf(name, sizeof(name), "cl_%s", pers);
	host = vsas_create(name, pers, NULL, topo);
	CHECK(host >= 0, "%s: vsas host not created", pers);
	if (host < 0)
		return;
	switch (r->prep) {
	case PREP_DELETE_ALL:
		CHECK(delete_all_devices(host) == 0, "%s: delete all failed", pers);
		break;
	case PREP_DELETE_ONE:
		CHECK(pick_device(host, ch, &id), "%s: no ch%d device", pers, ch);
		CHECK(delete_device(host, ch, id) == 0, "%s: delete %d:%u failed", pers, ch, id);
		break;
	case PREP_SILENT_REMOVE:
		CHECK(pick_device(host, ch, &id), "%s: no ch%d device", pers, ch);
		snprintf(cmd, sizeof(cmd), "remove ch=%d id=%u mode=silent", ch, id);
		CHECK(vsas_devcmd(name, cmd) == 0, "%s: %s failed", pers, cmd);
		break;
	case PREP_NONE:
		break;
	}
	firmware_list(name, -1, want, sizeof(want));
	sysfs_list(host, keep, sizeof(keep));
	vsas_reset_counters(host);
	snprintf(opts, sizeof(opts), r->opts, id);
	t0 = now_ms();
	rc = run_capture(out, sizeof(out), "rescan-scsi-bus.sh --hosts=%d %s 2>&1", host, opts);
	t0 = now_ms() - t0;
	/* the script's own removals and adds run on the host's event queue */
	vsas_devcmd(name, "flush");
	sysfs_list(host, found, sizeof(found));
	lsscsi_list(host, ls, sizeof(ls));
	absent = vsas_counter(host, "absent_probes");
	resets = vsas_counter(host, "resets");
	diag("CLIENT {\"case\": \"%s\", \"mode\": \"%s\", \"opts\": \"%s\", \"rc\": %d, "
	     "\"elapsed_ms\": %lld, \"expected\": \"%.400s\", \"before\": \"%.400s\", "
	     "\"found\": \"%.400s\", \"lsscsi_agrees\": %d, \"absent_probes\": %lld, "
	     "\"resets\": %lld, \"full\": %d}",
	     pers, r->mode, opts, rc, t0, want, keep, found, !strcmp(found, ls), absent,
	     resets, r->full);
	if (r->prep == PREP_SILENT_REMOVE) {
		/* the device the firmware lost must go, the rest stay */
		CHECK(contains(found, want), "%s %s: lost devices: found '%s' of '%s'",
		      pers, r->mode, found, want);
	} else {
		CHECK(contains(found, keep), "%s %s: devices lost: '%s' before, '%s' after",
		      pers, r->mode, keep, found);
	}
	CHECK(rc == 0, "%s %s: rescan-scsi-bus.sh rc %d", pers, r->mode, rc);
	CHECK(!strcmp(found, ls), "%s %s: lsscsi '%s' != sysfs '%s'", pers, r->mode, ls, found);
	CHECK(contains(want, found), "%s %s: devices the firmware does not have: '%s' vs '%s'",
	      pers, r->mode, found, want);
	if (r->full)
		CHECK(contains(found, want), "%s %s: missed devices: found '%s' of '%s'",
		      pers, r->mode, found, want);
	if (case_failed)
		diag("rescan-scsi-bus.sh --hosts=%d %s said:\n%.3000s", host, opts, out);
	CHECK(vsas_destroy(name) == 0, "%s: destroy failed", pers);
}

static const struct client_run client_runs[] = {
	{ "default", "", PREP_DELETE_ONE, false },
	{ "a", "-a", PREP_DELETE_ALL, false },
	{ "a_all_channels", "-a --channels=0-3", PREP_DELETE_ALL, true },
	{ "channels", "--channels=0-3", PREP_DELETE_ONE, false },
	{ "ids", "-a --ids=%d", PREP_DELETE_ONE, false },
	{ "luns", "-a --luns=0-1", PREP_DELETE_ALL, false },
	{ "r", "-r", PREP_SILENT_REMOVE, false },
	{ "forcerescan", "--forcerescan", PREP_NONE, false },
};

static int clients_rescan(const char *pers, const char *topo, int max_channel,
			  const char *only)
{
	size_t i;

	if (!path_exists("/usr/bin/rescan-scsi-bus.sh") || run("lsscsi -V >/dev/null 2>&1")) {
		diag("rescan-scsi-bus.sh or lsscsi missing from the initramfs");
		return CASE_SKIP;
	}
	for (i = 0; i < ARRAY_SIZE(client_runs); i++)
		if (!only || !strcmp(only, client_runs[i].mode))
			client_run(pers, topo, &client_runs[i], max_channel);
	return CASE_RESULT();
}

/* lsscsi on a fresh host lists exactly sysfs and the firmware's devices. */
static int clients_lsscsi(const char *pers, const char *topo)
{
	char want[LIST_MAX], found[LIST_MAX], ls[LIST_MAX], name[64];
	int host;

	snprintf(name, sizeof(name), "cl_%s", pers);
	host = vsas_create(name, pers, NULL, topo);
	CHECK(host >= 0, "%s: vsas host not created", pers);
	if (host < 0)
		return CASE_FAIL;
	firmware_list(name, -1, want, sizeof(want));
	CHECK(vsas_expect_devices(host, want, 10000), "%s: devices at load are not the topology",
	      pers);
	sysfs_list(host, found, sizeof(found));
	CHECK(lsscsi_list(host, ls, sizeof(ls)) == 0, "lsscsi failed");
	diag("CLIENT {\"case\": \"%s\", \"mode\": \"lsscsi\", \"expected\": \"%s\", "
	     "\"found\": \"%s\", \"lsscsi\": \"%s\"}", pers, want, found, ls);
	CHECK(!strcmp(ls, found), "lsscsi '%s' != sysfs '%s'", ls, found);
	CHECK(!strcmp(ls, want), "lsscsi '%s' != firmware '%s'", ls, want);
	CHECK(vsas_destroy(name) == 0, "%s: destroy failed", pers);
	return CASE_RESULT();
}

#define SMARTPQI_TOPO "0/2 0 1:0 1:1 3:5"
#define MPT3SAS_TOPO "0/2 0 0e 1:0 2:4"
#define PLAIN_TOPO "0/2 0 0e"

GUEST_CASE(clients_lsscsi_plain, "lsscsi lists a plain host's devices as sysfs and firmware")
{ return clients_lsscsi("plain", PLAIN_TOPO); }
GUEST_CASE(clients_lsscsi_smartpqi, "lsscsi lists smartpqi's physical and logical devices")
{ return clients_lsscsi("smartpqi", SMARTPQI_TOPO); }
GUEST_CASE(clients_lsscsi_mpt3sas, "lsscsi lists mpt3sas's SAS, RAID and NVMe devices")
{ return clients_lsscsi("mpt3sas", MPT3SAS_TOPO); }

GUEST_CASE(clients_rescan_plain, "rescan-scsi-bus.sh in every mode on plain (ch0 only)")
{ return clients_rescan("plain", PLAIN_TOPO, 0, NULL); }
GUEST_CASE(clients_rescan_smartpqi, "rescan-scsi-bus.sh in every mode on smartpqi (ch1-3 volumes)")
{ return clients_rescan("smartpqi", SMARTPQI_TOPO, 3, NULL); }
GUEST_CASE(clients_rescan_mpt3sas, "rescan-scsi-bus.sh in every mode on mpt3sas (RAID, NVMe)")
{ return clients_rescan("mpt3sas", MPT3SAS_TOPO, 2, NULL); }
