/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest helpers for the vsas cases: hosts through configfs, counters from
 * debugfs, data round trips through sd disks.
 */
#ifndef SASSCAN_VSAS_UTIL_H
#define SASSCAN_VSAS_UTIL_H

#include <stdbool.h>

#include "guest.h"

#define VSAS_CFS "/sys/kernel/config/vsas"
#define VSAS_DBG "/sys/kernel/debug/vsas"

/* modprobe vsas (once); 0 or -1. */
int vsas_load(void);
/*
 * Create and enable configfs host @name of @pers. @params: NULL-terminated
 * "attr=value" strings applied before enabling; @topology may be NULL.
 * Returns the SCSI host number or -1.
 */
int vsas_create(const char *name, const char *pers, const char *const *params,
		const char *topology);
/* Disable and remove host @name; 0 or -1. */
int vsas_destroy(const char *name);
/* Write a configfs attribute of host @name; 0 or -errno. */
int vsas_set(const char *name, const char *attr, const char *value);
/* "add ..."/"remove ..." to the devices attribute; 0 or -errno. */
int vsas_devcmd(const char *name, const char *cmd);
/* A counter of host @host from debugfs ("name value" lines), or -1. */
long long vsas_counter(int host, const char *counter);
/* @n counters in one read into @out (-1 if absent); how many were found. */
int vsas_counters(int host, const char *const *names, long long *out, int n);
/*
 * Commands by opcode of @host (debugfs "opcode_0xNN" lines) into @opc[256];
 * returns the total, or -1.
 */
long long vsas_opcodes(int host, long long opc[256]);
/*
 * A generic id walk in progress on host @name (@host): absent probes and
 * commands per second over @ms, the probes so far, and the walk's size:
 * max_id ids on each channel it covers (1..max_channel if @all_ch, else 1).
 */
struct vsas_walk {
	double rate, cmd_rate, total;
	long long probes;
};

void vsas_sample_walk(const char *name, int host, bool all_ch, unsigned int ms,
		      struct vsas_walk *w);
/*
 * Scan writer @w is still running: sample its walk for 3 s (into @walk); if
 * the rest would take at most 5 minutes the scan is bounded, only slow
 * under emulation: wait for it. Returns true if @w finished.
 */
bool vsas_wait_walk(const char *name, int host, bool all_ch, pid_t w,
		    struct vsas_walk *walk);
/* Reset all counters of @host; 0 or -errno. */
int vsas_reset_counters(int host);
/* Write to the host's debugfs call_scan file; 0 or -errno. */
int vsas_call_scan(int host, const char *req);
/* Path of the host's parent device (runtime PM) in sysfs, into @buf. */
int vsas_pdev_path(int host, char *buf, size_t size);
/* Wait until the devices of @host are @want; diag and false if not. */
bool vsas_expect_devices(int host, const char *want, unsigned int ms);
/* Check vendor/model of device h:c:t:l. */
bool vsas_check_inquiry(int host, unsigned int ch, unsigned int id,
			unsigned long long lun, const char *vendor,
			const char *model);
/* Is the device's target under an rphy (end_device-*)? */
bool vsas_under_rphy(int host, unsigned int ch, unsigned int id,
		     unsigned long long lun);
/* Disk name of h:c:t:l into @buf ("" if none). */
void vsas_disk(int host, unsigned int ch, unsigned int id,
	       unsigned long long lun, char *buf, size_t size);
/* Write a random pattern at @seek_kb into /dev/@disk, read back, compare. */
bool vsas_roundtrip(const char *disk, unsigned int kb, unsigned int seek_kb);
/* Read @kb from /dev/@disk with caches dropped; the shell status. */
int vsas_read_disk(const char *disk, unsigned int kb, unsigned int skip_kb);
/*
 * READ(10) of /dev/@disk's first block through SG_IO, past the page cache:
 * 0 if it succeeded, 1 if the device failed it, -errno if it was not sent.
 */
int vsas_sg_read(const char *disk);

/*
 * The personalities and what the per-personality cases (vsas_<pers>_<check>,
 * registered with GUEST_CASE_PARAM() from pers_table) expect of each.
 */
enum pers_check { PC_TOPOLOGY, PC_DATA, PC_HOTPLUG, PC_PM, PC_SCAN, PC_GENERIC, PC_EH,
		  PC_COUNT };

struct vdev {
	unsigned int ch, id;
	unsigned long long lun;
	const char *model;
};

/* A generic scan (debugfs scan_generic) and the counter it must leave. */
struct gen {
	const char *req;		/* "C I L [limit=N]" */
	int rc;				/* expected write result */
	const char *ctr;
	long long want;
};

struct pers_info {
	const char *pers;
	bool libsas;			/* on the real libsas (cases_vsas_libsas.c) */
	/* case descriptions after "<pers>: "; NULL: no such case */
	const char *what[PC_COUNT];

	/* transport-direct personalities (cases_vsas.c) */
	const char *topology;
	const char *want;		/* host_device_string() at load */
	struct vdev devs[8];
	int ndevs;
	int nvsas;			/* vsas devices (targets) in the topology */
	int nonrphy_at_load;		/* target allocs with a host parent */
	int absent_at_load;		/* absent probes during the load scan */
	bool hooks;			/* scan_start/scan_finished */
	bool rescan_attr;		/* host/rescan; scan_start rescans synchronously */
	bool pe_stalls;			/* a port enable under scan_mutex stalls */
	unsigned int hot_ch;		/* a driver channel for hot add */
	const char *hot_model;		/* its default model */
	unsigned int next_rphy_id;	/* transport id of the next ch 0 add */
	struct vdev data_dev;		/* a device on a non-zero channel */
	struct gen gen[3];
	int ngen;

	/* libsas personalities (cases_vsas_libsas.c) */
	unsigned int max_channel;
	const char *max_lun;
	bool cycles;		/* scan_start drops and re-raises linked PHYs */
	bool wedges;		/* isci: a repeated scan_start never finishes */
	bool fw_reset;		/* scan_start re-inits the controller */
};

#define PERS_COUNT 10
extern const struct pers_info pers_table[PERS_COUNT];
/* GUEST_CASE_PARAM() descriptions: transport-direct rows / libsas rows only. */
bool pers_desc_direct(const void *row, const char *check, char *name, char *what,
		      size_t size);
bool pers_desc_libsas(const void *row, const char *check, char *name, char *what,
		      size_t size);

/* A command of host @name times out: EH aborts it, the retry succeeds. */
int vsas_eh_case(const char *name, const char *pers, const char *topology,
		 const char *want, unsigned int ch, unsigned int id);

/* ---- cells (lab/matrix.py, lab/reliability.py, lab/bench.py) ---- */

/* A scan request "C T L" (numbers or "-"). */
struct req {
	unsigned int ch, id;
	unsigned long long lun;
	bool wild_ch, wild_id, wild_lun;
	/* channel 0: the rphys only (not hpsa's bus-0 controller) */
	bool rphys_only;
};

void req_parse(const char *s, struct req *r);
bool req_selects(const struct req *r, unsigned int ch, unsigned int id,
		 unsigned long long lun);
/*
 * The (c:t:l) set the emulated firmware of host @name has (all LUNs of every
 * device not silently removed), selected by @r, as "c:t:l ..."; the count.
 */
int vsas_fw_devices(const char *name, const struct req *r, char *buf, size_t size);
/*
 * The same, of the devices the modelled driver lists too (vsas state known or
 * exposed): what a user scan can bring back. A device the firmware has and
 * the driver does not list (state=fw-only: a silent add; smartpqi after a
 * user's delete, which makes the driver forget it) only the driver's own
 * rescan adds.
 */
int vsas_listed_devices(const char *name, const struct req *r, char *buf, size_t size);
/*
 * Devices the firmware has and the driver of host @name (scsi_host @host) no
 * longer lists (smartpqi after a user's delete): run the driver's own scan,
 * its "rescan" host attribute, if it has one. 1 if it did, else 0.
 */
int vsas_rescan_forgotten(const char *name, int host);
/*
 * A cell's request as lab/matrix.py wrote it into a scan string, in place: '_'
 * for spaces, "over" for "<max_channel + 1> - -", "@id" for the target id of
 * a channel-0 device of host @name (the transport assigns those).
 */
void vsas_resolve_req(const char *name, char *req, size_t size);
/* Apply "attr=v;attr=v" (modified in place) to host @name. */
void vsas_apply_settings(const char *name, char *set);
/* Delete the first scsi_device on channel @ch (any if @ch < 0); 0 if one was. */
int delete_one_device(int host, int ch);

/*
 * Run @fn on every cell line of @file (after loading vsas; blank lines and
 * lines starting with '#' skipped). @fn returns 1 to go on, 0 to stop, -1
 * for a bad line (it printed why; the next line follows). CASE_PASS, or
 * CASE_FAIL if the file or vsas is missing or a line was bad.
 */
int cells_run(const char *file, int (*fn)(const char *line));
/* A cell's scan is stuck for good: print "@tag-STOP after @id", end the VM. */
void cells_end_boot(const char *tag, const char *id) __attribute__((noreturn));

#endif
