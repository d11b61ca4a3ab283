/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vsas - a virtual SAS host adapter with the scan behaviour of real drivers.
 *
 * Structure:
 *   vsas_main.c        module init, host life cycle, SAS transport topology
 *   vsas_target.c      SCSI target emulation (commands, sparse store)
 *   vsas_personality.c the personality table and its scan callbacks
 *   vsas_configfs.c    control interface (/sys/kernel/config/vsas)
 *   vsas_debugfs.c     counters (/sys/kernel/debug/vsas)
 *   vsas_libsas.c      libsas LLDD mode
 */
#ifndef _VSAS_H
#define _VSAS_H

#include <linux/atomic.h>
#include <linux/configfs.h>
#include <linux/device.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <scsi/scsi_cmnd.h>
#include <scsi/scsi_device.h>
#include <scsi/scsi_host.h>

#define VSAS_NAME		"vsas"
#define VSAS_MAX_CHANNELS	4	/* channels a personality may populate */
#define VSAS_MAX_PHYS		16
#define VSAS_MAX_LUNS		64	/* LUs per emulated device */
#define VSAS_MAX_LUN_ADDR	0x3fff	/* highest first LUN of a volume */
#define VSAS_REPORT_LUNS_MAX	256	/* entries in a REPORT LUNS answer */
#define VSAS_EXP_PHYS		8	/* PHYs of the libsas-mode expander */
#define VSAS_BLOCK_SIZE		512
#define VSAS_PAGE_BLOCKS	(PAGE_SIZE / VSAS_BLOCK_SIZE)

struct vsas_host;
struct vsas_dev;
struct scsi_target;
struct sas_rphy;
struct sas_port;
struct sas_phy;

/* ---- counters ---------------------------------------------------------- */
enum vsas_counter {
	VSAS_C_CMDS,			/* every command queued */
	VSAS_C_ABSENT_CMDS,		/* commands to a (c,i,l) with no device */
	VSAS_C_ABSENT_PROBES,		/* sdev/target allocs for unknown targets */
	VSAS_C_TARGET_ALLOCS,
	VSAS_C_TARGET_ALLOCS_NONRPHY,	/* parent is not an rphy */
	VSAS_C_TARGET_ALLOC_ENXIO,
	VSAS_C_TARGET_ALLOC_WILD,	/* mpi3mr: rphy deref of a non-rphy */
	VSAS_C_TARGET_ALLOC_OOPS,	/* libsas: would dereference NULL */
	VSAS_C_SLAVE_ALLOCS,
	VSAS_C_SLAVE_ALLOC_ENXIO,
	VSAS_C_SCAN_START,
	VSAS_C_SCAN_FINISHED,		/* calls */
	VSAS_C_SCAN_FINISHED_DONE,	/* calls that returned 1 */
	VSAS_C_SCAN_CONCURRENT_MAX,	/* most scan callbacks running at once */
	VSAS_C_SCANS_ACTIVE_MAX,	/* most scans in progress at once */
	VSAS_C_SCAN_TIMEOUTS,		/* scan_finished gave up (time limit) */
	VSAS_C_SCAN_DEFERRED,		/* busy: rescan deferred / skipped */
	VSAS_C_SCAN_UNDER_SCAN_MUTEX,	/* scan hook entered with scan_mutex */
	VSAS_C_SCAN_WOULD_DEADLOCK,	/* ...and the real driver would hang */
	VSAS_C_SCAN_STUCK,		/* isci: scan_finished stuck at 0 */
	VSAS_C_RESCANS,			/* driver rescans (device list updates) */
	VSAS_C_PORT_ENABLES,
	VSAS_C_PORT_ENABLE_BUSY,
	VSAS_C_RESETS,			/* all resets below */
	VSAS_C_FW_RESETS,		/* firmware/controller re-init */
	VSAS_C_LINK_RESETS,		/* PHY link down/up cycles */
	VSAS_C_PHY_HARD_RESETS,
	VSAS_C_PHY_DISABLES,
	VSAS_C_IO_FAILED_BY_RESET,
	VSAS_C_DEVS_ADDED,		/* exposed to the midlayer */
	VSAS_C_DEVS_REMOVED,
	VSAS_C_DEVS_REREPORTED,		/* re-reported by firmware after reset */
	VSAS_C_HOTPLUG_EVENTS,		/* "noticed" add/remove events */
	VSAS_C_CMDS_WHILE_SUSPENDED,
	VSAS_C_RUNTIME_SUSPENDS,
	VSAS_C_RUNTIME_RESUMES,
	VSAS_C_INFLIGHT_MAX,
	VSAS_C_EH_ABORTS,
	VSAS_C_EH_DEV_RESETS,
	VSAS_C_EH_HOST_RESETS,
	VSAS_C_TMF,			/* libsas TMFs (abort, LU reset, ...) */
	VSAS_C_PHY_EVENTS,		/* libsas PHY/port events notified */
	VSAS_C_USER_SCAN_REPORTS,	/* ->user_scan_devices() calls (fix series) */
	VSAS_C_USER_SCAN_BUSY,		/* ...that returned -EBUSY (driver state) */
	VSAS_C_USER_SCAN_ENTRIES,	/* sas_scan_report_device() calls */
	VSAS_C_REPORT_LUNS_REFUSED,	/* REPORT LUNS answered ILLEGAL REQUEST */
	VSAS_C_ABSENT_LUN_PROBES,	/* sdev allocs for a LU a known target lacks */
	VSAS_C_DEVS_FORGOTTEN,		/* sdev destroy: the driver forgot the device */
	VSAS_C_FORGET_BUSY,		/* ...not: the driver's scan mutex was held */
	VSAS_C_UNEXPOSED_PROBES,	/* sdev allocs the driver would not make */
	VSAS_C_USER_SCAN_ENOMEM,	/* sas_scan_report_device() said -ENOMEM */
	VSAS_C_NR
};

extern const char * const vsas_counter_names[VSAS_C_NR];

/* ---- personality ------------------------------------------------------- */
enum vsas_add_method {
	VSAS_ADD_NONE = 0,	/* channel not used */
	VSAS_ADD_RPHY,		/* sas_rphy_add() -> channel 0 */
	VSAS_ADD_DEVICE,	/* scsi_add_device() per LUN */
	VSAS_ADD_SCAN_TARGET,	/* scsi_scan_target(shost, ch, id, wildcard) */
};

/* what a volume answers to REPORT LUNS (firmware behaviour, per host) */
enum vsas_report_luns {
	VSAS_RL_ALL,		/* every volume (LUN) of its target */
	VSAS_RL_SELF,		/* only its own LUNs */
	VSAS_RL_NONE,		/* ILLEGAL REQUEST, invalid opcode */
};

/* the modelled driver's state, for its ->user_scan_devices() gating */
enum vsas_drv_state {
	VSAS_DS_OK,
	VSAS_DS_RESET,		/* controller/IOC reset, error recovery */
	VSAS_DS_DISCOVERY,	/* initial discovery not complete */
	VSAS_DS_REMOVING,	/* driver unload / host removal */
};

extern const char * const vsas_report_luns_names[];
extern const char * const vsas_drv_state_names[];

enum vsas_absent {
	VSAS_ABSENT_NO_CONNECT,	/* slave_alloc 0, command gets DID_NO_CONNECT */
	VSAS_ABSENT_ENXIO,	/* slave_alloc -ENXIO */
};

struct vsas_personality {
	const char *name;
	const char *proc_name;		/* "vsas_<name>": host proc_name */
	bool libsas;
	bool remove_target;		/* removes with scsi_remove_target() */
	bool rescan_attr;		/* has a "rescan" host attribute */
	/*
	 * The driver has no ->user_scan_devices() hook: its hosts get a SAS
	 * transport template without one (smartpqi, docs/design.md).
	 */
	bool no_user_scan;
	/*
	 * Its sdev destroy callback unlinks the driver's device when the last
	 * LUN's scsi_device goes (smartpqi): a user's sysfs delete makes the
	 * driver forget a device on channels >= 1 until its own scan.
	 */
	bool forget_on_delete;
	/*
	 * Runtime PM as hisi_sas v3 does it: the controller ignores its
	 * children, each disk holds it active through a device link made
	 * when the disk is configured, and while it is suspended the host's
	 * requests are blocked.
	 */
	bool rpm_links;
	unsigned int max_channel;
	unsigned int max_id;
	u64 max_lun;
	u8 add_method[VSAS_MAX_CHANNELS];
	/*
	 * Driver channels (>= 1) hold volumes: several devices per
	 * (channel, id), each a LUN range the driver adds and removes on its
	 * own and addresses by (channel, id, lun) (smartpqi, hpsa).
	 */
	bool per_lun;
	/*
	 * A channel-0 device with an id is the controller, added with
	 * scsi_add_device() on bus 0 like a volume, not an rphy (hpsa with a
	 * controller whose INQUIRY version is neither 0 nor 5).
	 */
	bool bus0_ctrl;
	bool add_lun0;			/* scsi_add_device() of LUN 0 only (mpt3sas) */
	/* ->user_scan_devices(): -EBUSY in these driver states (bit mask) */
	unsigned int busy_states;
	const char *model[VSAS_MAX_CHANNELS];	/* default INQUIRY product */
	enum vsas_absent absent;
	unsigned int scan_ms;		/* how long the scan / port enable takes */
	unsigned int scan_timeout_ms;	/* scan_finished gives up (0: never) */
	unsigned int rescan_delay_ms;	/* deferred rescan (smartpqi: 10 s) */
	const char *topology;		/* default devices */
	/* callbacks: NULL means none (no scan_start etc.) */
	void (*scan_start)(struct vsas_host *vh);
	int (*scan_finished)(struct vsas_host *vh, unsigned long time);
	int (*target_alloc)(struct vsas_host *vh, struct scsi_target *starget,
			    struct vsas_dev *dev);
};

extern const struct vsas_personality vsas_personalities[];
extern const unsigned int vsas_nr_personalities;
const struct vsas_personality *vsas_find_personality(const char *name);

/* ---- per-host parameters (personality defaults, overridable) ------------ */
struct vsas_params {
	unsigned int max_channel;
	unsigned int max_id;
	u64 max_lun;
	unsigned int num_phys;
	unsigned int capacity_mb;	/* per LU */
	unsigned int io_delay_ms;
	unsigned int absent_delay_ms;
	unsigned int scan_ms;
	unsigned int scan_timeout_ms;
	unsigned int rescan_delay_ms;
	int autosuspend_ms;
	bool rpm_allow;			/* runtime PM allowed at creation */
	bool deadlock_real;		/* really self-deadlock like the driver */
	bool isci_stuck;		/* isci: repeated scan_start wedges */
	bool scan_on_create;		/* call scsi_scan_host() at creation */
	unsigned int link_down_ms;	/* libsas: link down time on reset */
	unsigned int can_queue;
};

/* ---- emulated devices -------------------------------------------------- */
struct vsas_lu {
	struct xarray pages;		/* page index -> struct page * */
	u64 nblocks;
};

struct vsas_dev {
	struct kref kref;
	struct list_head node;		/* vh->devs */
	struct vsas_host *vh;
	unsigned int index;		/* vsas device number within the host */
	unsigned int channel;
	int id;				/* target id; ch 0: from the transport */
	unsigned int lun;		/* first LUN (volumes; else 0) */
	unsigned int nluns;
	u8 type;			/* peripheral device type */
	bool expander;			/* behind the expander (ch 0) */
	bool bus0;			/* ch 0, added by the driver (bus0_ctrl) */
	u64 sas_addr;
	char vendor[9];
	char model[17];
	/* state, under vh->lock */
	bool in_fw;			/* the emulated firmware reports it */
	bool known;			/* the driver's device list has it */
	bool exposed;			/* added to the midlayer */
	bool hidden;			/* listed, never exposed (is_hidden) */
	bool blocked;			/* listed, never added (mpt3sas BLOCKED) */
	bool exposing;			/* vsas_expose() is adding it now */
	/* topology objects, only touched from the fw workqueue */
	struct sas_port *port;
	struct sas_rphy *rphy;
	struct sas_phy *exp_phy;	/* expander PHY it hangs off */
	void *ldev;			/* libsas: domain_device */
	unsigned int phy;		/* libsas: host PHY it is attached to */
	struct vsas_lu lus[] __counted_by(nluns);
};

/* per-command private data (cmd_size) */
struct vsas_cmd {
	struct delayed_work dwork;
	struct list_head node;		/* vh->inflight */
	struct scsi_cmnd *scmd;
	struct vsas_host *vh;
	struct vsas_dev *dev;		/* reference, NULL if absent */
	void *task;			/* libsas: sas_task */
	unsigned int lun;		/* LU index within dev */
	bool queued;			/* on vh->inflight */
};

/* ---- host -------------------------------------------------------------- */
struct vsas_host {
	struct list_head node;		/* vsas_hosts */
	struct mutex cfg_lock;		/* configuration and life cycle */
	struct mutex eh_lock;		/* aborts vs. reset failing I/O */
	int idx;
	bool param_host;		/* created by the "hosts" module param */
	char name[32];
	const struct vsas_personality *pers;
	struct vsas_params p;
	char topology[256];

	/* while enabled */
	bool enabled;
	enum vsas_report_luns report_luns;	/* runtime */
	enum vsas_drv_state drv_state;		/* runtime */
	struct device *pdev;		/* parent of the Scsi_Host, runtime PM */
	struct Scsi_Host *shost;
	bool rpm_blocked;		/* rpm_links: requests blocked while suspended */
	struct workqueue_struct *fw_wq;	/* ordered: the "firmware event" queue */
	struct dentry *dbg;

	spinlock_t lock;		/* devs, inflight, scan state */
	struct list_head devs;
	unsigned int next_dev;
	struct list_head inflight;
	unsigned int inflight_now;

	struct sas_phy *phys[VSAS_MAX_PHYS];
	struct sas_port *exp_port;	/* host port of the expander */
	struct sas_rphy *exp_rphy;
	unsigned int exp_nphys;

	/* scan state (personality callbacks) */
	struct mutex drv_scan_mutex;	/* smartpqi: ctrl_info->scan_mutex */
	wait_queue_head_t scan_wait;	/* hpsa: scan_wait_queue */
	bool scan_finished_flag;	/* hpsa: h->scan_finished */
	bool scan_waiting;		/* hpsa: h->scan_waiting */
	bool start_scan;		/* mpt3sas start_scan / mpi3mr scan_started */
	bool port_enable_pending;	/* mpt3sas/mpi3mr: PE outstanding */
	bool first_scan_done;
	unsigned int scan_starts;	/* libsas: number of scan_start calls */
	unsigned long scan_done_at;	/* libsas: jiffies the scan ended */
	bool isci_start_pending;	/* isci: IHOST_START_PENDING */
	bool isci_escape;		/* debugfs knob: let a stuck scan end */
	bool mvsas_flag;		/* mvsas: mvi->scan_finished */
	struct delayed_work rescan_work;	/* smartpqi deferred rescan */
	struct delayed_work pe_work;		/* mpt3sas/mpi3mr port enable */
	atomic_t scan_calls_now;
	atomic_t scans_active_now;
	/* teardown vs. scan hooks: see vsas_hook_get() (under vsas_hook_lock) */
	bool removing;
	unsigned int hook_users;

	/* libsas mode */
	void *lsas;

	atomic64_t ctr[VSAS_C_NR];
	atomic64_t opc[256];
};

/*
 * Scsi_Host private data: word 0 is the sas_ha_struct pointer in libsas mode
 * (SHOST_TO_SAS_HA() reads it), word 1 the vsas host.
 */
#define VSAS_SHOST_PRIV_SIZE	(2 * sizeof(void *))

/* An rphy: channel 0 and not a driver-added bus-0 device. */
static inline bool vsas_dev_rphy(const struct vsas_dev *dev)
{
	return !dev->channel && !dev->bus0;
}

static inline struct vsas_host *shost_to_vh(struct Scsi_Host *shost)
{
	return ((struct vsas_host **)shost_priv(shost))[1];
}

static inline void vsas_inc(struct vsas_host *vh, enum vsas_counter c)
{
	atomic64_inc(&vh->ctr[c]);
}

static inline void vsas_add(struct vsas_host *vh, enum vsas_counter c, long n)
{
	atomic64_add(n, &vh->ctr[c]);
}

void vsas_max(struct vsas_host *vh, enum vsas_counter c, long v);

/* vsas_main.c */
extern struct workqueue_struct *vsas_io_wq;
extern const u8 *vsas_zero_buf;
extern struct mutex vsas_hosts_lock;
extern struct list_head vsas_hosts;
struct vsas_host *vsas_host_new(const char *name);
void vsas_host_free(struct vsas_host *vh);
int vsas_host_enable(struct vsas_host *vh);
void vsas_host_disable(struct vsas_host *vh);
int vsas_parse_topology(struct vsas_host *vh, const char *spec);
int vsas_dev_command(struct vsas_host *vh, const char *cmd);
ssize_t vsas_dev_list(struct vsas_host *vh, char *buf, size_t size);
void vsas_dev_put(struct vsas_dev *dev);
struct vsas_dev *vsas_dev_lookup(struct vsas_host *vh, struct scsi_target *starget);
struct vsas_dev *vsas_dev_lookup_lun(struct vsas_host *vh, struct scsi_target *starget,
				     u64 lun, unsigned int *idx);
bool vsas_dev_volumes(struct vsas_host *vh, struct vsas_dev *dev);
void vsas_dev_add_range(struct vsas_host *vh, struct vsas_dev *dev,
			unsigned int *first, unsigned int *count);
int vsas_set_drv_state(struct vsas_host *vh, enum vsas_drv_state st);
typedef int (*vsas_report_fn)(void *ctx, unsigned int channel, unsigned int id,
			      u64 lun);
int vsas_collect_devices(struct vsas_host *vh, vsas_report_fn fn, void *ctx);
bool vsas_dev_usable(struct vsas_dev *dev);
void vsas_queue_sync(struct vsas_host *vh);
void vsas_driver_rescan(struct vsas_host *vh);
int vsas_fw_call(struct vsas_host *vh,
		 void (*fn)(struct vsas_host *vh, struct vsas_dev *dev));
void vsas_host_set_personality(struct vsas_host *vh,
			       const struct vsas_personality *pers);
int vsas_target_alloc(struct scsi_target *starget);
bool vsas_sdev_account(struct vsas_host *vh, struct scsi_device *sdev);
void vsas_sync_now(struct vsas_host *vh);
void vsas_fail_inflight(struct vsas_host *vh, struct vsas_dev *only, int host_byte);
bool vsas_scan_mutex_held(struct vsas_host *vh);
void vsas_scan_enter(struct vsas_host *vh);
void vsas_scan_leave(struct vsas_host *vh);
void vsas_scan_active(struct vsas_host *vh, bool on);
void vsas_rphy_scan_mark(struct vsas_host *vh);
/* scan_start/scan_finished of every personality's template: count, then call the personality */
void vsas_hook_scan_start(struct Scsi_Host *shost);
int vsas_hook_scan_finished(struct Scsi_Host *shost, unsigned long time);
int vsas_fw_reset(struct vsas_host *vh);

/* vsas_target.c */
int vsas_lu_init(struct vsas_lu *lu, u64 nblocks);
void vsas_lu_free(struct vsas_lu *lu);
void vsas_execute(struct vsas_host *vh, struct vsas_dev *dev, unsigned int lun,
		  struct scsi_cmnd *scmd);
int vsas_queue_cmd(struct vsas_host *vh, struct scsi_cmnd *scmd, void *task);
void vsas_cmd_work(struct work_struct *work);
int vsas_abort_cmd(struct vsas_host *vh, struct scsi_cmnd *scmd);

/* vsas_personality.c */
void vsas_pers_init_host(struct vsas_host *vh);

/* vsas_debugfs.c */
void vsas_debugfs_init(void);
void vsas_debugfs_exit(void);
void vsas_debugfs_add(struct vsas_host *vh);
void vsas_debugfs_remove(struct vsas_host *vh);

/* vsas_configfs.c */
int vsas_configfs_init(void);
void vsas_configfs_exit(void);

/* vsas_libsas.c */
int vsas_libsas_init(void);
void vsas_libsas_exit(void);
void vsas_libsas_fill_sht(struct scsi_host_template *sht,
			  const struct vsas_personality *pers);
int vsas_libsas_add(struct vsas_host *vh);
void vsas_libsas_remove(struct vsas_host *vh);
int vsas_libsas_expose(struct vsas_host *vh, struct vsas_dev *dev);
int vsas_libsas_plug(struct vsas_host *vh, struct vsas_dev *dev);
bool vsas_libsas_has_exp(struct vsas_host *vh);
void vsas_libsas_unexpose(struct vsas_host *vh, struct vsas_dev *dev);
void vsas_libsas_task_done(struct vsas_cmd *vc, struct scsi_cmnd *scmd, bool phy_down);
int vsas_libsas_phy_cycle(struct vsas_host *vh, unsigned int phy, bool hard);
void vsas_ls_scan_start_phy_enable(struct vsas_host *vh);
int vsas_ls_scan_finished_timed(struct vsas_host *vh, unsigned long time);
void vsas_ls_isci_scan_start(struct vsas_host *vh);
int vsas_ls_isci_scan_finished(struct vsas_host *vh, unsigned long time);
void vsas_ls_mvsas_scan_start(struct vsas_host *vh);
int vsas_ls_mvsas_scan_finished(struct vsas_host *vh, unsigned long time);
void vsas_ls_pm8001_scan_start(struct vsas_host *vh);

#endif /* _VSAS_H */
