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
/*
 * Load vsas and run @fn on every line of the cell file @path (blank lines and
 * '#' comments skipped) with its index. @fn returns false when a scan is
 * stuck for good: the boot ends at once ("<tag>-STOP" diag) and the host
 * boots again for the remaining cells. CASE_PASS, or CASE_FAIL without the
 * file or vsas.
 */
int vsas_run_cells(const char *path, const char *tag,
		   bool (*fn)(const char *line, int idx));
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

/* A command of host @name times out: EH aborts it, the retry succeeds. */
int vsas_eh_case(const char *name, const char *pers, const char *topology,
		 const char *want, unsigned int ch, unsigned int id);

#endif
