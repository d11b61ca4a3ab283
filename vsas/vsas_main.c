// SPDX-License-Identifier: GPL-2.0
/*
 * vsas: a virtual SAS host adapter that reproduces the scan-relevant
 * behaviour of real SAS drivers ("personalities") on the real SAS transport
 * class and on real libsas.
 *
 * This file: module init, host life cycle, the emulated firmware device list
 * and the SAS transport topology (PHYs, ports, end device and expander rphys)
 * of the transport-direct personalities.
 */
#include <linux/async.h>
#include <linux/bsg-lib.h>
#include <linux/ctype.h>
#include <linux/delay.h>
#include <linux/idr.h>
#include <linux/lockdep.h>
#include <linux/module.h>
#include <linux/pm_runtime.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <scsi/scsi_transport.h>
#include <scsi/scsi_transport_sas.h>

#include "vsas.h"

static char *hosts = "";
module_param(hosts, charp, 0444);
MODULE_PARM_DESC(hosts, "Hosts to create at load: comma-separated personalities (e.g. \"plain,smartpqi\")");

static char *topology = "";
module_param(topology, charp, 0444);
MODULE_PARM_DESC(topology, "Topology of the hosts created at load (default: the personality's)");

static unsigned int io_delay_ms;
module_param(io_delay_ms, uint, 0444);
MODULE_PARM_DESC(io_delay_ms, "Default completion delay of commands (ms)");

static int autosuspend_ms = 5000;
module_param(autosuspend_ms, int, 0444);
MODULE_PARM_DESC(autosuspend_ms, "Default runtime PM autosuspend delay of hosts (ms)");

static unsigned int capacity_mb = 64;
module_param(capacity_mb, uint, 0444);
MODULE_PARM_DESC(capacity_mb, "Default capacity of each logical unit (MiB, sparse)");

struct workqueue_struct *vsas_io_wq;
const u8 *vsas_zero_buf;
/* protects vsas_hosts, the list of all hosts (configfs and parameter) */
DEFINE_MUTEX(vsas_hosts_lock);
LIST_HEAD(vsas_hosts);
static DEFINE_IDA(vsas_ida);
static struct device *vsas_root;
static struct scsi_transport_template *vsas_sas_tt;
/* personalities without ->user_scan_devices() (no_user_scan) */
static struct scsi_transport_template *vsas_sas_tt_nohook;
static struct scsi_host_template *vsas_sht;	/* one per personality */

const char * const vsas_counter_names[VSAS_C_NR] = {
	[VSAS_C_CMDS] = "cmds",
	[VSAS_C_ABSENT_CMDS] = "absent_cmds",
	[VSAS_C_ABSENT_PROBES] = "absent_probes",
	[VSAS_C_ABSENT_LUN_PROBES] = "absent_lun_probes",
	[VSAS_C_TARGET_ALLOCS] = "target_allocs",
	[VSAS_C_TARGET_ALLOCS_NONRPHY] = "target_allocs_nonrphy",
	[VSAS_C_TARGET_ALLOC_ENXIO] = "target_alloc_enxio",
	[VSAS_C_TARGET_ALLOC_WILD] = "target_alloc_wild_read",
	[VSAS_C_TARGET_ALLOC_OOPS] = "target_alloc_would_oops",
	[VSAS_C_SLAVE_ALLOCS] = "slave_allocs",
	[VSAS_C_SLAVE_ALLOC_ENXIO] = "slave_alloc_enxio",
	[VSAS_C_SCAN_START] = "scan_start",
	[VSAS_C_SCAN_FINISHED] = "scan_finished",
	[VSAS_C_SCAN_FINISHED_DONE] = "scan_finished_done",
	[VSAS_C_SCAN_CONCURRENT_MAX] = "scan_calls_concurrent_max",
	[VSAS_C_SCANS_ACTIVE_MAX] = "scans_active_max",
	[VSAS_C_SCAN_TIMEOUTS] = "scan_timeouts",
	[VSAS_C_SCAN_DEFERRED] = "scan_deferred",
	[VSAS_C_SCAN_UNDER_SCAN_MUTEX] = "scan_under_scan_mutex",
	[VSAS_C_SCAN_WOULD_DEADLOCK] = "scan_would_deadlock",
	[VSAS_C_SCAN_STUCK] = "scan_stuck",
	[VSAS_C_RESCANS] = "rescans",
	[VSAS_C_PORT_ENABLES] = "port_enables",
	[VSAS_C_PORT_ENABLE_BUSY] = "port_enable_busy",
	[VSAS_C_RESETS] = "resets",
	[VSAS_C_FW_RESETS] = "fw_resets",
	[VSAS_C_LINK_RESETS] = "link_resets",
	[VSAS_C_PHY_HARD_RESETS] = "phy_hard_resets",
	[VSAS_C_PHY_DISABLES] = "phy_disables",
	[VSAS_C_IO_FAILED_BY_RESET] = "io_failed_by_reset",
	[VSAS_C_DEVS_ADDED] = "devs_added",
	[VSAS_C_DEVS_REMOVED] = "devs_removed",
	[VSAS_C_DEVS_REREPORTED] = "devs_rereported",
	[VSAS_C_HOTPLUG_EVENTS] = "hotplug_events",
	[VSAS_C_CMDS_WHILE_SUSPENDED] = "cmds_while_suspended",
	[VSAS_C_RUNTIME_SUSPENDS] = "runtime_suspends",
	[VSAS_C_RUNTIME_RESUMES] = "runtime_resumes",
	[VSAS_C_INFLIGHT_MAX] = "inflight_max",
	[VSAS_C_EH_ABORTS] = "eh_aborts",
	[VSAS_C_EH_DEV_RESETS] = "eh_device_resets",
	[VSAS_C_EH_HOST_RESETS] = "eh_host_resets",
	[VSAS_C_TMF] = "tmfs",
	[VSAS_C_PHY_EVENTS] = "phy_events",
	[VSAS_C_USER_SCAN_REPORTS] = "user_scan_reports",
	[VSAS_C_USER_SCAN_BUSY] = "user_scan_busy",
	[VSAS_C_USER_SCAN_ENTRIES] = "user_scan_entries",
	[VSAS_C_REPORT_LUNS_REFUSED] = "report_luns_refused",
	[VSAS_C_DEVS_FORGOTTEN] = "devs_forgotten",
	[VSAS_C_FORGET_BUSY] = "forget_busy",
	[VSAS_C_UNEXPOSED_PROBES] = "unexposed_probes",
	[VSAS_C_USER_SCAN_ENOMEM] = "user_scan_enomem",
};

const char * const vsas_report_luns_names[] = {
	[VSAS_RL_ALL] = "all", [VSAS_RL_SELF] = "self", [VSAS_RL_NONE] = "none", NULL,
};

const char * const vsas_drv_state_names[] = {
	[VSAS_DS_OK] = "ok", [VSAS_DS_RESET] = "reset",
	[VSAS_DS_DISCOVERY] = "discovery", [VSAS_DS_REMOVING] = "removing", NULL,
};

void vsas_max(struct vsas_host *vh, enum vsas_counter c, long v)
{
	s64 old = atomic64_read(&vh->ctr[c]);

	while (v > old) {
		s64 seen = atomic64_cmpxchg(&vh->ctr[c], old, v);

		if (seen == old)
			break;
		old = seen;
	}
}

/* ---- scan accounting ---------------------------------------------------- */

/*
 * Is the midlayer's scan_mutex held by the caller? Accurate with lockdep;
 * otherwise "held by anybody", which is what the counters document.
 */
bool vsas_scan_mutex_held(struct vsas_host *vh)
{
	struct mutex *m = &vh->shost->scan_mutex;
#ifdef CONFIG_LOCKDEP
	int held = lockdep_is_held(m);

	if (held != LOCK_STATE_UNKNOWN)
		return held;
#endif
	return mutex_is_locked(m);
}

void vsas_scan_enter(struct vsas_host *vh)
{
	vsas_max(vh, VSAS_C_SCAN_CONCURRENT_MAX,
		 atomic_inc_return(&vh->scan_calls_now));
}

void vsas_scan_leave(struct vsas_host *vh)
{
	atomic_dec(&vh->scan_calls_now);
}

void vsas_scan_active(struct vsas_host *vh, bool on)
{
	if (on)
		vsas_max(vh, VSAS_C_SCANS_ACTIVE_MAX,
			 atomic_inc_return(&vh->scans_active_now));
	else
		atomic_dec_if_positive(&vh->scans_active_now);
}

/* ---- emulated devices --------------------------------------------------- */

static void vsas_dev_release(struct kref *kref)
{
	struct vsas_dev *dev = container_of(kref, struct vsas_dev, kref);
	unsigned int i;

	for (i = 0; i < dev->nluns; i++)
		vsas_lu_free(&dev->lus[i]);
	kfree(dev);
}

void vsas_dev_put(struct vsas_dev *dev)
{
	kref_put(&dev->kref, vsas_dev_release);
}

bool vsas_dev_usable(struct vsas_dev *dev)
{
	return READ_ONCE(dev->in_fw) && READ_ONCE(dev->known);
}

/* Is @dev a volume: one LUN range of a shared target (smartpqi, hpsa)? */
bool vsas_dev_volumes(struct vsas_host *vh, struct vsas_dev *dev)
{
	return !vh->pers->libsas && !vsas_dev_rphy(dev) && vh->pers->per_lun;
}

/*
 * The LUNs the driver's own add path gives @dev: scsi_add_device() for each
 * of its LUNs, or LUN 0 only (mpt3sas adds RAID/PCIe targets at LUN 0).
 */
void vsas_dev_add_range(struct vsas_host *vh, struct vsas_dev *dev,
			unsigned int *first, unsigned int *count)
{
	*first = dev->lun;
	*count = vh->pers->add_lun0 ? 1 : dev->nluns;
}

static bool vsas_dev_on_target(struct vsas_dev *dev, struct scsi_target *starget)
{
	if (!dev->known || dev->channel != starget->channel)
		return false;
	if (vsas_dev_rphy(dev))
		return dev->rphy && &dev->rphy->dev == starget->dev.parent;
	/* a bus-0 device shares channel 0 with the rphys' targets */
	return dev->id == starget->id && !scsi_is_sas_rphy(starget->dev.parent);
}

/* How the driver adds @dev: its rphy, or its channel's add path. */
static u8 vsas_dev_method(struct vsas_host *vh, struct vsas_dev *dev)
{
	if (vsas_dev_rphy(dev))
		return VSAS_ADD_RPHY;
	return dev->bus0 ? VSAS_ADD_DEVICE : vh->pers->add_method[dev->channel];
}

/*
 * The device the driver would address for @starget, with a reference, or
 * NULL. Channel 0 devices are found through their rphy, as the real drivers
 * find them through sas_address/rphy; other channels by id. Of several
 * volumes on one target, the one with the lowest LUN.
 */
struct vsas_dev *vsas_dev_lookup(struct vsas_host *vh,
				 struct scsi_target *starget)
{
	struct vsas_dev *dev, *found = NULL;
	unsigned long flags;

	spin_lock_irqsave(&vh->lock, flags);
	list_for_each_entry(dev, &vh->devs, node) {
		if (!vsas_dev_on_target(dev, starget))
			continue;
		if (!found || dev->lun < found->lun ||
		    (dev->lun == found->lun && !vsas_dev_usable(found)))
			found = dev;
	}
	if (found)
		kref_get(&found->kref);
	spin_unlock_irqrestore(&vh->lock, flags);
	return found;
}

/*
 * The device the driver would address for LUN @lun of @starget, with a
 * reference, and the LU index within it in *@idx. Volumes (smartpqi, hpsa:
 * lookup by (bus, target, lun), smartpqi_init.c pqi_find_scsi_dev(), hpsa.c
 * lookup_hpsa_scsi_dev()): only the volume holding @lun, else NULL. Other
 * targets: the target's device; *@idx >= nluns for a LU it lacks.
 */
struct vsas_dev *vsas_dev_lookup_lun(struct vsas_host *vh,
				     struct scsi_target *starget, u64 lun,
				     unsigned int *idx)
{
	struct vsas_dev *dev, *found = NULL, *target_dev = NULL;
	unsigned long flags;

	*idx = VSAS_MAX_LUNS;
	spin_lock_irqsave(&vh->lock, flags);
	list_for_each_entry(dev, &vh->devs, node) {
		if (!vsas_dev_on_target(dev, starget))
			continue;
		if (lun >= dev->lun && lun < (u64)dev->lun + dev->nluns) {
			/* a lost device still listed yields to its successor */
			if (found && !vsas_dev_usable(dev))
				continue;
			found = dev;
			*idx = lun - dev->lun;
			if (vsas_dev_usable(dev))
				break;
			continue;
		}
		if (!vsas_dev_volumes(vh, dev) && (!target_dev || dev->lun < target_dev->lun))
			target_dev = dev;
	}
	if (!found)
		found = target_dev;	/* a LU it lacks: *idx stays out of range */
	if (found)
		kref_get(&found->kref);
	spin_unlock_irqrestore(&vh->lock, flags);
	return found;
}

static struct vsas_dev *vsas_dev_alloc(struct vsas_host *vh, unsigned int nluns)
{
	struct vsas_dev *dev;
	unsigned int i;

	dev = kzalloc(struct_size(dev, lus, nluns), GFP_KERNEL);
	if (!dev)
		return NULL;
	kref_init(&dev->kref);
	dev->nluns = nluns;
	dev->vh = vh;
	dev->id = -1;
	for (i = 0; i < nluns; i++)
		vsas_lu_init(&dev->lus[i], (u64)vh->p.capacity_mb << 11);
	return dev;
}

/* ---- firmware event queue ----------------------------------------------- */

struct vsas_fw_event {
	struct work_struct work;
	struct vsas_host *vh;
	struct vsas_dev *dev;
	void (*fn)(struct vsas_host *vh, struct vsas_dev *dev);
};

static void vsas_fw_event_work(struct work_struct *work)
{
	struct vsas_fw_event *ev = container_of(work, struct vsas_fw_event, work);

	ev->fn(ev->vh, ev->dev);
	if (ev->dev)
		vsas_dev_put(ev->dev);
	kfree(ev);
}

static int vsas_fw_queue(struct vsas_host *vh, struct vsas_dev *dev,
			 void (*fn)(struct vsas_host *, struct vsas_dev *))
{
	struct vsas_fw_event *ev = kzalloc(sizeof(*ev), GFP_KERNEL);

	if (!ev)
		return -ENOMEM;
	INIT_WORK(&ev->work, vsas_fw_event_work);
	ev->vh = vh;
	ev->fn = fn;
	if (dev) {
		kref_get(&dev->kref);
		ev->dev = dev;
	}
	queue_work(vh->fw_wq, &ev->work);
	return 0;
}

/* ---- SAS transport topology (transport-direct personalities) ------------ */

static u64 vsas_host_sas_addr(struct vsas_host *vh)
{
	return 0x5000c0de00000000ULL | ((u64)(vh->idx & 0xffff) << 16);
}

static void vsas_identify_end(struct sas_identify *id, u64 addr, bool initiator,
			      unsigned int phy)
{
	id->sas_address = addr;
	id->device_type = SAS_END_DEVICE;
	id->initiator_port_protocols = initiator ? SAS_PROTOCOL_SSP : 0;
	id->target_port_protocols = initiator ? 0 : SAS_PROTOCOL_SSP;
	id->phy_identifier = phy;
}

static struct sas_phy *vsas_new_phy(struct device *parent, int n, u64 addr,
				    bool initiator)
{
	struct sas_phy *phy = sas_phy_alloc(parent, n);

	if (!phy)
		return NULL;
	vsas_identify_end(&phy->identify, addr, initiator, n);
	phy->minimum_linkrate_hw = SAS_LINK_RATE_1_5_GBPS;
	phy->maximum_linkrate_hw = SAS_LINK_RATE_12_0_GBPS;
	phy->minimum_linkrate = SAS_LINK_RATE_1_5_GBPS;
	phy->maximum_linkrate = SAS_LINK_RATE_12_0_GBPS;
	phy->negotiated_linkrate = SAS_LINK_RATE_12_0_GBPS;
	if (sas_phy_add(phy)) {
		sas_phy_free(phy);
		return NULL;
	}
	return phy;
}

static int vsas_host_phys_add(struct vsas_host *vh)
{
	unsigned int i;

	for (i = 0; i < vh->p.num_phys; i++) {
		vh->phys[i] = vsas_new_phy(&vh->shost->shost_gendev, i,
					   vsas_host_sas_addr(vh), true);
		if (!vh->phys[i])
			return -ENOMEM;
	}
	return 0;
}

/* The edge expander on the last host PHY, created on first use. */
static int vsas_expander_get(struct vsas_host *vh)
{
	struct sas_port *port;
	struct sas_rphy *rphy;
	unsigned int n = vh->p.num_phys - 1;
	int ret;

	if (vh->exp_rphy)
		return 0;
	port = sas_port_alloc_num(&vh->shost->shost_gendev);
	if (!port)
		return -ENOMEM;
	ret = sas_port_add(port);
	if (ret) {
		sas_port_free(port);
		return ret;
	}
	sas_port_add_phy(port, vh->phys[n]);
	rphy = sas_expander_alloc(port, SAS_EDGE_EXPANDER_DEVICE);
	if (!rphy) {
		sas_port_delete(port);
		return -ENOMEM;
	}
	rphy->identify.sas_address = vsas_host_sas_addr(vh) | 0xfe00;
	rphy->identify.device_type = SAS_EDGE_EXPANDER_DEVICE;
	rphy->identify.target_port_protocols = SAS_PROTOCOL_SMP;
	ret = sas_rphy_add(rphy);
	if (ret) {
		sas_rphy_free(rphy);
		sas_port_delete(port);
		return ret;
	}
	vh->exp_port = port;
	vh->exp_rphy = rphy;
	return 0;
}

/* A direct device takes a free host PHY (the last one is the expander's). */
static int vsas_free_host_phy(struct vsas_host *vh)
{
	unsigned long used = 0;
	struct vsas_dev *dev;
	unsigned int i, n = vh->p.num_phys - 1;

	list_for_each_entry(dev, &vh->devs, node)
		if (dev->channel == 0 && dev->port && !dev->expander)
			used |= BIT(dev->phy);
	for (i = 0; i < n; i++)
		if (!(used & BIT(i)))
			return i;
	return -ENOSPC;
}

static int vsas_expose_rphy(struct vsas_host *vh, struct vsas_dev *dev)
{
	struct device *parent;
	struct sas_port *port;
	struct sas_rphy *rphy;
	struct sas_phy *phy;
	unsigned long flags;
	int ret, n;

	if (dev->expander) {
		ret = vsas_expander_get(vh);
		if (ret)
			return ret;
		parent = &vh->exp_rphy->dev;
		phy = vsas_new_phy(parent, vh->exp_nphys, vh->exp_rphy->identify.sas_address,
				   false);
		if (!phy)
			return -ENOMEM;
		phy->identify.device_type = SAS_EDGE_EXPANDER_DEVICE;
		dev->phy = vh->exp_nphys++;
		dev->exp_phy = phy;
	} else {
		spin_lock_irqsave(&vh->lock, flags);
		n = vsas_free_host_phy(vh);
		spin_unlock_irqrestore(&vh->lock, flags);
		if (n < 0)
			return n;
		parent = &vh->shost->shost_gendev;
		phy = vh->phys[n];
		dev->phy = n;
	}
	port = sas_port_alloc_num(parent);
	if (!port) {
		ret = -ENOMEM;
		goto err_phy;
	}
	ret = sas_port_add(port);
	if (ret) {
		sas_port_free(port);
		goto err_phy;
	}
	sas_port_add_phy(port, phy);
	rphy = sas_end_device_alloc(port);
	if (!rphy) {
		ret = -ENOMEM;
		goto err_port;
	}
	vsas_identify_end(&rphy->identify, dev->sas_addr, false, 0);
	spin_lock_irqsave(&vh->lock, flags);
	dev->port = port;
	dev->rphy = rphy;
	spin_unlock_irqrestore(&vh->lock, flags);
	/* scans the target: the device must be findable by now */
	ret = sas_rphy_add(rphy);
	if (ret) {
		spin_lock_irqsave(&vh->lock, flags);
		dev->rphy = NULL;
		dev->port = NULL;
		spin_unlock_irqrestore(&vh->lock, flags);
		sas_rphy_free(rphy);
		goto err_port;
	}
	dev->id = rphy->scsi_target_id;
	return 0;

err_port:
	sas_port_delete(port);
err_phy:
	if (dev->exp_phy) {
		sas_phy_delete(dev->exp_phy);
		dev->exp_phy = NULL;
	}
	return ret;
}

static void vsas_unexpose_rphy(struct vsas_host *vh, struct vsas_dev *dev)
{
	struct sas_port *port = dev->port;
	unsigned long flags;

	if (!port)
		return;
	sas_port_delete(port);		/* deletes the rphy and its targets */
	spin_lock_irqsave(&vh->lock, flags);
	dev->port = NULL;
	dev->rphy = NULL;
	spin_unlock_irqrestore(&vh->lock, flags);
	if (dev->exp_phy) {
		sas_phy_delete(dev->exp_phy);
		dev->exp_phy = NULL;
	}
}

static void vsas_remove_target_of(struct vsas_host *vh, struct vsas_dev *dev)
{
	struct scsi_device *sdev;
	struct scsi_target *starget;
	unsigned int lun;

	for (lun = 0; lun < dev->nluns; lun++) {
		sdev = scsi_device_lookup(vh->shost, dev->channel, dev->id, lun);
		if (!sdev)
			continue;
		starget = scsi_target(sdev);
		get_device(&starget->dev);
		scsi_device_put(sdev);
		scsi_remove_target(&starget->dev);
		put_device(&starget->dev);
		return;
	}
}

/* Add @dev to the midlayer the way the personality's driver does. */
static void vsas_expose(struct vsas_host *vh, struct vsas_dev *dev)
{
	u8 method = vsas_dev_method(vh, dev);
	unsigned int lun, first, count;
	int ret = 0;

	if (dev->exposed)
		return;
	/* listed by the driver but not exposed: hidden, mpt3sas BLOCKED */
	if (!vsas_dev_rphy(dev) && (READ_ONCE(dev->hidden) || READ_ONCE(dev->blocked)))
		return;
	/*
	 * mpi3mr_report_tgtdev_to_host() refuses while reset_in_progress or
	 * pci_err_recovery (mpi3mr_os.c:966 in 6.12 and 7.3): the device
	 * stays listed with host_exposed 0 until the post-reset refresh.
	 */
	if (method == VSAS_ADD_SCAN_TARGET &&
	    READ_ONCE(vh->drv_state) == VSAS_DS_RESET)
		return;
	WRITE_ONCE(dev->exposing, true);
	if (vh->pers->libsas) {
		ret = vsas_libsas_expose(vh, dev);
	} else if (method == VSAS_ADD_RPHY) {
		ret = vsas_expose_rphy(vh, dev);
	} else if (method == VSAS_ADD_SCAN_TARGET) {
		scsi_scan_target(&vh->shost->shost_gendev, dev->channel, dev->id,
				 SCAN_WILD_CARD, SCSI_SCAN_INITIAL);
	} else {
		vsas_dev_add_range(vh, dev, &first, &count);
		for (lun = first; lun < first + count; lun++)
			ret |= scsi_add_device(vh->shost, dev->channel, dev->id, lun);
	}
	WRITE_ONCE(dev->exposing, false);
	if (ret) {
		dev_warn(&vh->shost->shost_gendev, "vsas: exposing device %u failed: %d\n",
			 dev->index, ret);
		return;
	}
	dev->exposed = true;
	if (!vh->pers->libsas)	/* libsas: counted in lldd_dev_found */
		vsas_inc(vh, VSAS_C_DEVS_ADDED);
}

static void vsas_unexpose(struct vsas_host *vh, struct vsas_dev *dev)
{
	struct scsi_device *sdev;
	unsigned int lun, first, count;

	if (!dev->exposed)
		return;
	if (vh->pers->libsas) {
		vsas_libsas_unexpose(vh, dev);
	} else if (vsas_dev_rphy(dev)) {
		vsas_unexpose_rphy(vh, dev);
	} else if (vh->pers->remove_target) {
		vsas_remove_target_of(vh, dev);
	} else {
		/* each volume's own LUNs only (scsi_remove_device()) */
		vsas_dev_add_range(vh, dev, &first, &count);
		for (lun = first; lun < first + count; lun++) {
			sdev = scsi_device_lookup(vh->shost, dev->channel, dev->id, lun);
			if (!sdev)
				continue;
			scsi_remove_device(sdev);
			scsi_device_put(sdev);
		}
	}
	dev->exposed = false;
	if (!vh->pers->libsas)	/* libsas: counted in lldd_dev_gone */
		vsas_inc(vh, VSAS_C_DEVS_REMOVED);
}

/* Forget @dev (driver list and vsas list) once the firmware dropped it. */
static void vsas_forget(struct vsas_host *vh, struct vsas_dev *dev)
{
	unsigned long flags;
	bool drop = false;

	spin_lock_irqsave(&vh->lock, flags);
	dev->known = false;
	if (!dev->in_fw && !list_empty(&dev->node)) {
		list_del_init(&dev->node);
		drop = true;
	}
	spin_unlock_irqrestore(&vh->lock, flags);
	if (drop)
		vsas_dev_put(dev);
}

static void vsas_ev_expose(struct vsas_host *vh, struct vsas_dev *dev)
{
	unsigned long flags;

	spin_lock_irqsave(&vh->lock, flags);
	if (!dev->in_fw || list_empty(&dev->node)) {
		spin_unlock_irqrestore(&vh->lock, flags);
		return;
	}
	dev->known = true;
	spin_unlock_irqrestore(&vh->lock, flags);
	vsas_expose(vh, dev);
}

static void vsas_ev_unexpose(struct vsas_host *vh, struct vsas_dev *dev)
{
	if (READ_ONCE(dev->in_fw))
		return;
	vsas_unexpose(vh, dev);
	vsas_forget(vh, dev);
}

/*
 * The driver's rescan: compare the firmware's device list with the
 * driver's; add what is new, remove what is gone. Runs on the fw queue.
 */
static void vsas_ev_sync(struct vsas_host *vh, struct vsas_dev *unused)
{
	struct vsas_dev *dev, **todo;
	unsigned long flags;
	unsigned int n = 0, i, cap;

	spin_lock_irqsave(&vh->lock, flags);
	cap = vh->next_dev + 1;
	spin_unlock_irqrestore(&vh->lock, flags);
	todo = kcalloc(cap, sizeof(*todo), GFP_KERNEL);
	if (!todo)
		return;
	spin_lock_irqsave(&vh->lock, flags);
	list_for_each_entry(dev, &vh->devs, node) {
		if (n == cap)
			break;
		if (dev->in_fw != dev->known || (dev->in_fw && !dev->exposed &&
						 !vh->first_scan_done)) {
			kref_get(&dev->kref);
			todo[n++] = dev;
		}
	}
	spin_unlock_irqrestore(&vh->lock, flags);

	for (i = 0; i < n; i++) {
		dev = todo[i];
		if (READ_ONCE(dev->in_fw))
			vsas_ev_expose(vh, dev);
		else
			vsas_ev_unexpose(vh, dev);
		vsas_dev_put(dev);
	}
	kfree(todo);
}

/* Are there differences between the firmware and the driver lists? */
static bool vsas_changes_pending(struct vsas_host *vh)
{
	struct vsas_dev *dev;
	unsigned long flags;
	bool pending = false;

	spin_lock_irqsave(&vh->lock, flags);
	list_for_each_entry(dev, &vh->devs, node)
		if (dev->in_fw != dev->known) {
			pending = true;
			break;
		}
	spin_unlock_irqrestore(&vh->lock, flags);
	return pending;
}

/*
 * mpi3mr's post-reset refresh, mpi3mr_refresh_tgtdevs(), re-reports listed
 * devices whose host_exposed is 0 (mpi3mr_os.c:1089, :1128 in 6.12; :1093,
 * :1136 in 7.3): expose every listed, not hidden, not exposed device.
 */
static void vsas_ev_refresh(struct vsas_host *vh, struct vsas_dev *unused)
{
	struct vsas_dev *dev, **todo;
	unsigned long flags;
	unsigned int n = 0, i, cap;

	spin_lock_irqsave(&vh->lock, flags);
	cap = vh->next_dev + 1;
	spin_unlock_irqrestore(&vh->lock, flags);
	todo = kcalloc(cap, sizeof(*todo), GFP_KERNEL);
	if (!todo)
		return;
	spin_lock_irqsave(&vh->lock, flags);
	list_for_each_entry(dev, &vh->devs, node) {
		if (n < cap && dev->channel && dev->in_fw && dev->known && !dev->exposed) {
			kref_get(&dev->kref);
			todo[n++] = dev;
		}
	}
	spin_unlock_irqrestore(&vh->lock, flags);
	for (i = 0; i < n; i++) {
		vsas_expose(vh, todo[i]);
		vsas_dev_put(todo[i]);
	}
	kfree(todo);
}

/* configfs driver_state: the driver's gating state (see vsas.h) */
int vsas_set_drv_state(struct vsas_host *vh, enum vsas_drv_state st)
{
	enum vsas_drv_state old = READ_ONCE(vh->drv_state);

	WRITE_ONCE(vh->drv_state, st);
	if (vh->enabled && old == VSAS_DS_RESET && st == VSAS_DS_OK &&
	    !vh->pers->libsas && vh->pers->add_method[1] == VSAS_ADD_SCAN_TARGET) {
		vsas_fw_queue(vh, NULL, vsas_ev_refresh);
		flush_workqueue(vh->fw_wq);
	}
	return 0;
}

void vsas_queue_sync(struct vsas_host *vh)
{
	vsas_fw_queue(vh, NULL, vsas_ev_sync);
}

/* Synchronous rescan, as smartpqi/hpsa do inside scan_start. */
void vsas_sync_now(struct vsas_host *vh)
{
	if (!vsas_fw_queue(vh, NULL, vsas_ev_sync))
		flush_workqueue(vh->fw_wq);
}

/*
 * A driver rescan called from a scan hook. With the midlayer's scan_mutex
 * held by the caller, the real smartpqi/hpsa would self-deadlock on their
 * first scsi_add_device()/scsi_remove_device(); vsas counts that and, unless
 * deadlock_real is set, lets the event queue do the work after the caller
 * drops scan_mutex.
 */
void vsas_driver_rescan(struct vsas_host *vh)
{
	vsas_inc(vh, VSAS_C_RESCANS);
	if (vh->p.scan_ms)
		msleep(vh->p.scan_ms);
	if (vsas_scan_mutex_held(vh)) {
		if (!vsas_changes_pending(vh))
			return;
		vsas_inc(vh, VSAS_C_SCAN_WOULD_DEADLOCK);
		if (!vh->p.deadlock_real) {
			vsas_queue_sync(vh);
			return;
		}
	}
	vsas_sync_now(vh);
}

/* Emulated firmware/controller re-initialisation. */
int vsas_fw_reset(struct vsas_host *vh)
{
	struct vsas_dev *dev;
	unsigned long flags;
	int n = 0;

	vsas_inc(vh, VSAS_C_RESETS);
	vsas_inc(vh, VSAS_C_FW_RESETS);
	vsas_fail_inflight(vh, NULL, DID_RESET);
	spin_lock_irqsave(&vh->lock, flags);
	list_for_each_entry(dev, &vh->devs, node)
		if (dev->in_fw && dev->known)
			n++;
	spin_unlock_irqrestore(&vh->lock, flags);
	vsas_add(vh, VSAS_C_DEVS_REREPORTED, n);
	return n;
}

/* Queue an arbitrary function on the fw queue (personality callbacks). */
int vsas_fw_call(struct vsas_host *vh,
		 void (*fn)(struct vsas_host *vh, struct vsas_dev *dev))
{
	return vsas_fw_queue(vh, NULL, fn);
}

/* ---- device commands (configfs "devices" attribute, topology) ---------- */

struct vsas_dev_spec {
	int channel;
	int id;
	int lun;		/* first LUN; -1: not given (0 for add) */
	int hidden, blocked;	/* -1: not given */
	int dev_index;
	unsigned int nluns;
	int type;
	bool expander;
	bool silent;
	bool known;		/* driver learns it, midlayer is not told */
	bool has_vendor, has_model;
	char vendor[9];
	char model[17];
};

static void vsas_pad(char *dst, const char *src, size_t n)
{
	size_t l = strnlen(src, n);

	memset(dst, ' ', n);
	memcpy(dst, src, l);
	dst[n] = '\0';
}

/* Is @s hpsa's controller on bus 0: a channel-0 device with an id? */
static bool vsas_spec_bus0(const struct vsas_personality *pers, const struct vsas_dev_spec *s)
{
	return !s->channel && s->id >= 0 && pers->bus0_ctrl && !s->expander;
}

/* Create a device in the firmware list (and the driver's unless silent). */
static int vsas_dev_create(struct vsas_host *vh, const struct vsas_dev_spec *s)
{
	const struct vsas_personality *pers = vh->pers;
	struct vsas_dev *dev, *d;
	unsigned long flags;
	bool noticed = vh->enabled && !s->silent && !s->known;
	const char *model;

	unsigned int lun = s->lun < 0 ? 0 : s->lun;
	bool bus0 = vsas_spec_bus0(pers, s);
	bool volumes = !pers->libsas && (s->channel > 0 || bus0) && pers->per_lun;

	if (s->channel < 0 || s->channel >= VSAS_MAX_CHANNELS ||
	    s->nluns < 1 || s->nluns > VSAS_MAX_LUNS || s->type < 0 || s->type > 0x1f)
		return -EINVAL;
	/* only volumes start at a LUN other than 0 */
	if (lun && (!volumes || lun + s->nluns - 1 > VSAS_MAX_LUN_ADDR))
		return -EINVAL;
	if (s->channel == 0 && s->id >= 0 && !bus0)
		return -EINVAL;		/* the transport assigns ch 0 ids */
	if (s->channel && (s->id < 0 || s->expander ||
			   pers->add_method[s->channel] == VSAS_ADD_NONE))
		return -EINVAL;
	/* libsas: an expander exists only if the topology had one */
	if (pers->libsas && s->expander && vh->enabled && !vsas_libsas_has_exp(vh))
		return -EINVAL;
	/* only a driver's own channels have a list apart from the transport */
	if (s->known && (!s->channel || pers->libsas || !vh->enabled))
		return -EINVAL;
	dev = vsas_dev_alloc(vh, s->nluns);
	if (!dev)
		return -ENOMEM;
	dev->channel = s->channel;
	dev->bus0 = bus0;
	dev->id = s->id;
	dev->lun = lun;
	dev->hidden = s->hidden > 0;
	dev->blocked = s->blocked > 0;
	dev->type = s->type;
	dev->expander = s->expander;
	model = pers->model[s->channel] ? pers->model[s->channel] : "VSAS DISK";
	if (bus0)
		model = "HBA CTRL";
	vsas_pad(dev->vendor, s->has_vendor ? s->vendor : "VSAS", 8);
	vsas_pad(dev->model, s->has_model ? s->model : model, 16);
	dev->in_fw = true;

	spin_lock_irqsave(&vh->lock, flags);
	list_for_each_entry(d, &vh->devs, node) {
		if (!d->in_fw)
			continue;
		/*
		 * A bus-0 controller's target (0, 0) is also the first rphy's:
		 * real hpsa cannot expose both (their sysfs names clash).
		 */
		if (!d->channel && !dev->channel && d->bus0 != dev->bus0) {
			spin_unlock_irqrestore(&vh->lock, flags);
			vsas_dev_put(dev);
			return -EINVAL;
		}
		/*
		 * volumes share a target if their LUNs do not overlap; a
		 * device the firmware lost may still be listed until the
		 * driver drops it
		 */
		if (!vsas_dev_rphy(dev) && d->channel == s->channel && d->bus0 == dev->bus0 &&
		    d->id == s->id && (!volumes || (lun < d->lun + d->nluns &&
						    d->lun < lun + s->nluns))) {
			spin_unlock_irqrestore(&vh->lock, flags);
			vsas_dev_put(dev);
			return -EEXIST;
		}
	}
	dev->index = vh->next_dev++;
	dev->sas_addr = 0x5000c0de00000000ULL | ((u64)(vh->idx & 0xffff) << 16) |
			0x1000 | (dev->index & 0xfff);
	dev->known = s->known;
	list_add_tail(&dev->node, &vh->devs);
	spin_unlock_irqrestore(&vh->lock, flags);

	if (noticed) {
		vsas_inc(vh, VSAS_C_HOTPLUG_EVENTS);
		vsas_fw_queue(vh, dev, vsas_ev_expose);
	} else if (pers->libsas && vh->enabled) {
		/* plugged into a PHY, but no event reaches libsas */
		vsas_libsas_plug(vh, dev);
	}
	return dev->index;
}

/* The target id: libsas devices get theirs when libsas adds the rphy. */
static int vsas_dev_id(struct vsas_host *vh, struct vsas_dev *dev)
{
	if (vh->pers->libsas && dev->channel == 0)
		return dev->rphy ? (int)dev->rphy->scsi_target_id : -1;
	return dev->id;
}

static struct vsas_dev *vsas_dev_find(struct vsas_host *vh,
				      const struct vsas_dev_spec *s)
{
	struct vsas_dev *dev;

	list_for_each_entry(dev, &vh->devs, node) {
		if (!dev->in_fw)
			continue;
		if (s->dev_index >= 0 ? dev->index == s->dev_index :
		    dev->channel == s->channel && vsas_dev_id(vh, dev) == s->id &&
		    (s->lun < 0 || ((unsigned int)s->lun >= dev->lun &&
				    (unsigned int)s->lun < dev->lun + dev->nluns)))
			return dev;
	}
	return NULL;
}

static int vsas_dev_delete(struct vsas_host *vh, const struct vsas_dev_spec *s)
{
	struct vsas_dev *dev;
	unsigned long flags;
	bool noticed = vh->enabled && !s->silent, drop = false;

	if (s->dev_index < 0 && (s->channel < 0 || s->id < 0))
		return -EINVAL;
	spin_lock_irqsave(&vh->lock, flags);
	dev = vsas_dev_find(vh, s);
	if (!dev) {
		spin_unlock_irqrestore(&vh->lock, flags);
		return -ENOENT;
	}
	dev->in_fw = false;
	if (!dev->known && !dev->exposed) {
		list_del_init(&dev->node);
		drop = true;
	} else {
		kref_get(&dev->kref);
	}
	spin_unlock_irqrestore(&vh->lock, flags);
	if (drop) {
		vsas_dev_put(dev);
		return 0;
	}
	if (noticed) {
		vsas_inc(vh, VSAS_C_HOTPLUG_EVENTS);
		vsas_fw_queue(vh, dev, vsas_ev_unexpose);
	}
	vsas_dev_put(dev);
	return 0;
}

/* "set": change a listed device's hidden/blocked state (no event) */
static int vsas_dev_set(struct vsas_host *vh, const struct vsas_dev_spec *s)
{
	struct vsas_dev *dev;
	unsigned long flags;

	if (s->dev_index < 0 && (s->channel < 0 || s->id < 0))
		return -EINVAL;
	if (s->hidden < 0 && s->blocked < 0)
		return -EINVAL;
	spin_lock_irqsave(&vh->lock, flags);
	dev = vsas_dev_find(vh, s);
	if (dev && s->hidden >= 0)
		WRITE_ONCE(dev->hidden, s->hidden);
	if (dev && s->blocked >= 0)
		WRITE_ONCE(dev->blocked, s->blocked);
	spin_unlock_irqrestore(&vh->lock, flags);
	return dev ? 0 : -ENOENT;
}

static int vsas_parse_uint(const char *v, unsigned int *out)
{
	return kstrtouint(v, 0, out);
}

/*
 * "add ch=C [id=I] [luns=N] [vendor=S] [model=S] [type=T] [exp=0|1]
 *  [mode=noticed|silent|known]"
 * "remove (dev=N | ch=C id=I) [mode=noticed|silent]"
 * "rescan" (queue a driver rescan on the fw queue), "flush".
 */
static int vsas_dev_command_one(struct vsas_host *vh, char *line)
{
	struct vsas_dev_spec s = {
		.channel = -1, .id = -1, .lun = -1, .dev_index = -1, .nluns = 1,
		.hidden = -1, .blocked = -1,
	};
	char *verb, *tok, *val;
	unsigned int u;
	bool add, set = false;

	line = strim(line);
	verb = strsep(&line, " \t");
	if (!verb || !*verb)
		return 0;
	if (!strcmp(verb, "rescan") || !strcmp(verb, "flush")) {
		if (line && *strim(line))
			return -EINVAL;
		if (!vh->enabled)
			return -ENODEV;
		if (verb[0] == 'r')
			vsas_queue_sync(vh);
		flush_workqueue(vh->fw_wq);
		return 0;
	}
	if (!strcmp(verb, "add"))
		add = true;
	else if (!strcmp(verb, "remove"))
		add = false;
	else if (!strcmp(verb, "set"))
		add = false, set = true;
	else
		return -EINVAL;

	while ((tok = strsep(&line, " \t"))) {
		if (!*tok)
			continue;
		val = strchr(tok, '=');
		if (!val)
			return -EINVAL;
		*val++ = '\0';
		if (!strcmp(tok, "mode")) {
			if (!strcmp(val, "silent"))
				s.silent = true;
			else if (!strcmp(val, "known"))
				s.known = true;
			else if (strcmp(val, "noticed"))
				return -EINVAL;
			continue;
		}
		if (!strcmp(tok, "vendor") && add) {
			if (!*val || strlen(val) > 8)
				return -EINVAL;
			strscpy(s.vendor, val, sizeof(s.vendor));
			s.has_vendor = true;
			continue;
		}
		if (!strcmp(tok, "model") && add) {
			if (!*val || strlen(val) > 16)
				return -EINVAL;
			strscpy(s.model, val, sizeof(s.model));
			s.has_model = true;
			continue;
		}
		if (vsas_parse_uint(val, &u) || u > INT_MAX)
			return -EINVAL;
		if (!strcmp(tok, "ch"))
			s.channel = u;
		else if (!strcmp(tok, "id"))
			s.id = u;
		else if (!strcmp(tok, "lun"))
			s.lun = u;
		else if (!strcmp(tok, "dev") && !add)
			s.dev_index = u;
		else if (!strcmp(tok, "hidden") && (add || set) && u <= 1)
			s.hidden = u;
		else if (!strcmp(tok, "blocked") && (add || set) && u <= 1)
			s.blocked = u;
		else if (!strcmp(tok, "luns") && add)
			s.nluns = u;
		else if (!strcmp(tok, "type") && add)
			s.type = u;
		else if (!strcmp(tok, "exp") && add && u <= 1)
			s.expander = u;
		else
			return -EINVAL;
	}
	if (add) {
		int ret = vsas_dev_create(vh, &s);

		return ret < 0 ? ret : 0;
	}
	if (set)
		return vsas_dev_set(vh, &s);
	return vsas_dev_delete(vh, &s);
}

int vsas_dev_command(struct vsas_host *vh, const char *cmd)
{
	char *copy = kstrdup(cmd, GFP_KERNEL);
	int ret;

	if (!copy)
		return -ENOMEM;
	ret = vsas_dev_command_one(vh, copy);
	kfree(copy);
	return ret;
}

/*
 * Topology: whitespace-separated devices. "0" a SAS end device on a host
 * PHY, "0e" one behind the expander, "C:I" a driver device on channel C,
 * id I, "C:I:L" a volume at LUN L of target (C, I) (personalities with
 * per-LUN volumes; several may share a target); a "/N" suffix gives N LUNs.
 * "0:I[:L]" is the controller hpsa adds on bus 0 (bus0_ctrl), never an rphy.
 * Checked fully before anything changes (LUN overlaps: by vsas_dev_create()).
 */
int vsas_parse_topology(struct vsas_host *vh, const char *spec)
{
	const unsigned int max_specs = 64;
	struct vsas_dev_spec *specs;
	char *copy, *p, *tok, *slash;
	unsigned int n = 0, i, u;
	int ret = 0;

	specs = kcalloc(max_specs, sizeof(*specs), GFP_KERNEL);
	copy = kstrdup(spec, GFP_KERNEL);
	if (!copy || !specs) {
		ret = -ENOMEM;
		goto out;
	}
	p = copy;
	while ((tok = strsep(&p, " \t\n,"))) {
		struct vsas_dev_spec *s;
		char *colon;
		bool no_id;
		size_t l;

		if (!*tok)
			continue;
		if (n == max_specs) {
			ret = -EINVAL;
			goto out;
		}
		s = &specs[n++];
		memset(s, 0, sizeof(*s));
		s->id = -1;
		s->dev_index = -1;
		s->nluns = 1;
		slash = strchr(tok, '/');
		if (slash) {
			*slash++ = '\0';
			if (kstrtouint(slash, 10, &u) || !u || u > VSAS_MAX_LUNS) {
				ret = -EINVAL;
				goto out;
			}
			s->nluns = u;
		}
		l = strlen(tok);
		if (l && tok[l - 1] == 'e') {
			s->expander = true;
			tok[l - 1] = '\0';
		}
		s->lun = -1;
		s->hidden = -1;
		s->blocked = -1;
		colon = strchr(tok, ':');
		if (colon) {
			char *lcolon;

			*colon++ = '\0';
			lcolon = strchr(colon, ':');
			if (lcolon) {	/* C:I:L, a volume at LUN L */
				*lcolon++ = '\0';
				if (kstrtouint(lcolon, 10, &u) || u > VSAS_MAX_LUN_ADDR) {
					ret = -EINVAL;
					goto out;
				}
				s->lun = u;
			}
			if (kstrtouint(colon, 10, &u) || u > INT_MAX) {
				ret = -EINVAL;
				goto out;
			}
			s->id = u;
		}
		if (kstrtouint(tok, 10, &u) || u >= VSAS_MAX_CHANNELS) {
			ret = -EINVAL;
			goto out;
		}
		s->channel = u;
		no_id = s->id < 0;
		/* "0:I[:L]": hpsa's controller on bus 0 (vsas_dev_create()) */
		if ((u && no_id) || (!u && !no_id && !vsas_spec_bus0(vh->pers, s)) ||
		    (u && s->expander) ||
		    (u && vh->pers->add_method[u] == VSAS_ADD_NONE) ||
		    (s->lun > 0 && (vh->pers->libsas || !vh->pers->per_lun ||
				    s->lun + s->nluns - 1 > VSAS_MAX_LUN_ADDR))) {
			ret = -EINVAL;
			goto out;
		}
	}
	for (i = 0; i < n; i++) {
		ret = vsas_dev_create(vh, &specs[i]);
		if (ret < 0)
			goto out;
		ret = 0;
	}
out:
	kfree(copy);
	kfree(specs);
	return ret;
}

static const char *vsas_dev_state(struct vsas_dev *dev)
{
	if (dev->in_fw)
		return dev->known ? (dev->exposed ? "exposed" : "known") : "fw-only";
	return "gone";
}

ssize_t vsas_dev_list(struct vsas_host *vh, char *buf, size_t size)
{
	struct vsas_dev *dev;
	unsigned long flags;
	ssize_t n = 0;

	spin_lock_irqsave(&vh->lock, flags);
	list_for_each_entry(dev, &vh->devs, node) {
		n += scnprintf(buf + n, size - n,
			       "dev=%u ch=%u id=%d luns=%u lun=%u type=%u exp=%d phy=%d sas=0x%016llx state=%s vendor=%.8s model=%.16s hidden=%d blocked=%d\n",
			       dev->index, dev->channel, vsas_dev_id(vh, dev),
			       dev->nluns, dev->lun, dev->type, dev->expander,
			       vsas_dev_rphy(dev) ? (int)dev->phy : -1, dev->sas_addr,
			       vsas_dev_state(dev), dev->vendor, dev->model,
			       dev->hidden, dev->blocked);
	}
	spin_unlock_irqrestore(&vh->lock, flags);
	return n;
}

/* ---- SCSI host template callbacks (transport-direct) -------------------- */

#ifdef VSAS_HAVE_SCSI_QC_STATUS
static enum scsi_qc_status vsas_queuecommand(struct Scsi_Host *shost,
					     struct scsi_cmnd *scmd)
#else
static int vsas_queuecommand(struct Scsi_Host *shost, struct scsi_cmnd *scmd)
#endif
{
	return vsas_queue_cmd(shost_to_vh(shost), scmd, NULL);
}

static int vsas_init_cmd_priv(struct Scsi_Host *shost, struct scsi_cmnd *scmd)
{
	struct vsas_cmd *vc = scsi_cmd_priv(scmd);

	INIT_DELAYED_WORK(&vc->dwork, vsas_cmd_work);
	INIT_LIST_HEAD(&vc->node);
	return 0;
}

int vsas_target_alloc(struct scsi_target *starget)
{
	struct Scsi_Host *shost = dev_to_shost(starget->dev.parent);
	struct vsas_host *vh = shost_to_vh(shost);
	struct vsas_dev *dev;
	int ret = 0;

	vsas_inc(vh, VSAS_C_TARGET_ALLOCS);
	if (!scsi_is_sas_rphy(starget->dev.parent))
		vsas_inc(vh, VSAS_C_TARGET_ALLOCS_NONRPHY);
	dev = vsas_dev_lookup(vh, starget);
	if (vh->pers->target_alloc)
		ret = vh->pers->target_alloc(vh, starget, dev);
	if (dev)
		vsas_dev_put(dev);
	if (ret == -ENXIO) {
		vsas_inc(vh, VSAS_C_TARGET_ALLOC_ENXIO);
		vsas_inc(vh, VSAS_C_ABSENT_PROBES);
	}
	return ret;
}

/*
 * Would the modelled driver's ->user_scan_devices() report @dev (its
 * driver state aside)? Listed, neither hidden nor blocked, added by the
 * driver itself, and for a target it scans whole (mpi3mr) exposed by the
 * driver already (host_exposed).
 */
static bool vsas_dev_reportable(struct vsas_host *vh, struct vsas_dev *dev)
{
	u8 method = vsas_dev_method(vh, dev);

	if (vsas_dev_rphy(dev) || !READ_ONCE(dev->known) || READ_ONCE(dev->hidden) ||
	    READ_ONCE(dev->blocked))
		return false;
	if (method == VSAS_ADD_SCAN_TARGET)
		return READ_ONCE(dev->exposed);
	return method == VSAS_ADD_DEVICE;
}

/*
 * Counts the sdev allocation; false if (c,i,l) does not exist. A LU that a
 * target the driver knows lacks (an explicit "c t l" request, a sequential
 * LUN scan) is counted apart from a probe of a target nobody knows.
 */
bool vsas_sdev_account(struct vsas_host *vh, struct scsi_device *sdev)
{
	struct vsas_dev *tdev = vsas_dev_lookup(vh, scsi_target(sdev));
	struct vsas_dev *dev;
	bool known = tdev && READ_ONCE(tdev->known);
	bool present = false;
	unsigned int idx;

	vsas_inc(vh, VSAS_C_SLAVE_ALLOCS);
	if (tdev)
		vsas_dev_put(tdev);
	/* a volume is present only at its own LUNs; a target at its LUs */
	dev = vsas_dev_lookup_lun(vh, scsi_target(sdev), sdev->lun, &idx);
	if (dev) {
		present = vsas_dev_usable(dev) && idx < dev->nluns;
		/* a user scan probed what the driver keeps from the midlayer */
		if (present && !vsas_dev_rphy(dev) && !vsas_dev_reportable(vh, dev) &&
		    !READ_ONCE(dev->exposing))
			vsas_inc(vh, VSAS_C_UNEXPOSED_PROBES);
		vsas_dev_put(dev);
	}
	if (!present)
		vsas_inc(vh, known ? VSAS_C_ABSENT_LUN_PROBES : VSAS_C_ABSENT_PROBES);
	return present;
}

static int vsas_slave_alloc(struct scsi_device *sdev)
{
	struct vsas_host *vh = shost_to_vh(sdev->host);
	bool present = vsas_sdev_account(vh, sdev);

	/* smartpqi: hostdata is the driver's device, set when one is found */
	if (present && sdev->channel && vh->pers->forget_on_delete)
		sdev->hostdata = vh;
	if (!present && vh->pers->absent == VSAS_ABSENT_ENXIO) {
		vsas_inc(vh, VSAS_C_SLAVE_ALLOC_ENXIO);
		return -ENXIO;
	}
	return 0;
}

/*
 * The sdev destroy callback of forget_on_delete personalities: smartpqi's
 * pqi_sdev_destroy() (7.3) / pqi_slave_destroy() (6.12), smartpqi_init.c
 * :6645-6684 / :6613-6652. Only with the driver's scan mutex, taken with
 * mutex_trylock() (the driver's own scan and removal hold it: then nothing
 * happens), and only for a scsi_device the driver attached (hostdata), the
 * device's lun_count drops; at 0 the device is unlinked from the driver's
 * list and freed. vsas: the device stays in the firmware's list but is no
 * longer known nor exposed, so the next driver rescan (vsas_ev_sync(): the
 * rescan host attribute, scan_start, the deferred rescan) adds it again.
 * lun_count is modelled as "no other LUN of the device has a scsi_device".
 * Channel 0 (rphys) is not modelled (hostdata is only set on channels >= 1).
 */
static void vsas_sdev_destroy(struct scsi_device *sdev)
{
	struct vsas_host *vh = shost_to_vh(sdev->host);
	unsigned int idx, lun, first, count;
	struct scsi_device *other;
	struct vsas_dev *dev;
	unsigned long flags;
	bool last = true, forgot = false;

	if (!vh || !vh->pers->forget_on_delete || !sdev->hostdata)
		return;
	if (!mutex_trylock(&vh->drv_scan_mutex)) {
		vsas_inc(vh, VSAS_C_FORGET_BUSY);
		return;
	}
	sdev->hostdata = NULL;
	dev = vsas_dev_lookup_lun(vh, scsi_target(sdev), sdev->lun, &idx);
	if (!dev || vsas_dev_rphy(dev) || idx >= dev->nluns)
		goto out;
	vsas_dev_add_range(vh, dev, &first, &count);
	for (lun = first; lun < first + count && last; lun++) {
		if (lun == sdev->lun)
			continue;
		other = scsi_device_lookup(sdev->host, dev->channel, dev->id, lun);
		if (other) {
			last = false;
			scsi_device_put(other);
		}
	}
	spin_lock_irqsave(&vh->lock, flags);
	if (last && dev->known) {
		dev->known = false;
		dev->exposed = false;
		forgot = true;
	}
	spin_unlock_irqrestore(&vh->lock, flags);
	if (forgot)
		vsas_inc(vh, VSAS_C_DEVS_FORGOTTEN);
out:
	if (dev)
		vsas_dev_put(dev);
	mutex_unlock(&vh->drv_scan_mutex);
}

/*
 * The midlayer may call the scan hooks of a host that is being removed: a
 * sysfs scan write polls scan_finished while scsi_remove_host() runs, and an
 * asynchronous scan (CONFIG_SCSI_SCAN_ASYNC) holds its own Scsi_Host
 * reference and may poll after the vsas host is gone. The hooks take the
 * vsas host only through vsas_hook_get(): once teardown has begun they get
 * NULL and report the scan finished; teardown waits for hook calls already
 * running (vsas_hook_drain()).
 */
static DEFINE_SPINLOCK(vsas_hook_lock);

static struct vsas_host *vsas_hook_get(struct Scsi_Host *shost)
{
	struct vsas_host *vh;

	spin_lock(&vsas_hook_lock);
	vh = shost_to_vh(shost);
	if (vh && vh->removing)
		vh = NULL;
	if (vh)
		vh->hook_users++;
	spin_unlock(&vsas_hook_lock);
	return vh;
}

static void vsas_hook_put(struct vsas_host *vh)
{
	bool last;

	spin_lock(&vsas_hook_lock);
	last = !--vh->hook_users;
	spin_unlock(&vsas_hook_lock);
	if (last)
		wake_up_all(&vh->scan_wait);
}

static bool vsas_hooks_idle(struct vsas_host *vh)
{
	bool idle;

	spin_lock(&vsas_hook_lock);
	idle = !vh->hook_users;
	spin_unlock(&vsas_hook_lock);
	return idle;
}

/* Refuse new hook calls and wait for running ones. */
static void vsas_hook_drain(struct vsas_host *vh)
{
	spin_lock(&vsas_hook_lock);
	vh->removing = true;
	spin_unlock(&vsas_hook_lock);
	wake_up_all(&vh->scan_wait);
	wait_event(vh->scan_wait, vsas_hooks_idle(vh));
}

/*
 * The personality's scan_start: from the midlayer (@sequence: a scan that
 * scan_finished ends), or from the driver's own "rescan" attribute, which
 * the midlayer never polls (smartpqi pqi_host_rescan_store()).
 */
static void vsas_scan_start_call(struct Scsi_Host *shost, bool sequence)
{
	struct vsas_host *vh = vsas_hook_get(shost);

	if (!vh)
		return;
	vsas_inc(vh, VSAS_C_SCAN_START);
	vsas_scan_enter(vh);
	if (sequence)
		vsas_scan_active(vh, true);
	if (vsas_scan_mutex_held(vh))
		vsas_inc(vh, VSAS_C_SCAN_UNDER_SCAN_MUTEX);
	vh->pers->scan_start(vh);
	vsas_scan_leave(vh);
	vsas_hook_put(vh);
}

void vsas_hook_scan_start(struct Scsi_Host *shost)
{
	vsas_scan_start_call(shost, true);
}

int vsas_hook_scan_finished(struct Scsi_Host *shost, unsigned long time)
{
	struct vsas_host *vh = vsas_hook_get(shost);
	int ret;

	if (!vh)
		return 1;
	vsas_inc(vh, VSAS_C_SCAN_FINISHED);
	vsas_scan_enter(vh);
	ret = vh->pers->scan_finished(vh, time);
	vsas_scan_leave(vh);
	if (ret) {
		vsas_inc(vh, VSAS_C_SCAN_FINISHED_DONE);
		vsas_scan_active(vh, false);
	}
	vsas_hook_put(vh);
	return ret;
}

static int vsas_eh_abort(struct scsi_cmnd *scmd)
{
	struct vsas_host *vh = shost_to_vh(scmd->device->host);

	vsas_inc(vh, VSAS_C_EH_ABORTS);
	vsas_abort_cmd(vh, scmd);
	return SUCCESS;
}

static int vsas_eh_device_reset(struct scsi_cmnd *scmd)
{
	struct vsas_host *vh = shost_to_vh(scmd->device->host);

	vsas_inc(vh, VSAS_C_EH_DEV_RESETS);
	return SUCCESS;
}

static int vsas_eh_host_reset(struct scsi_cmnd *scmd)
{
	struct vsas_host *vh = shost_to_vh(scmd->device->host);

	vsas_inc(vh, VSAS_C_EH_HOST_RESETS);
	vsas_inc(vh, VSAS_C_RESETS);
	vsas_inc(vh, VSAS_C_FW_RESETS);
	return SUCCESS;
}

/* smartpqi/hpsa: the driver's own "rescan" host attribute runs scan_start */
static ssize_t rescan_store(struct device *dev, struct device_attribute *attr,
			    const char *buf, size_t count)
{
	vsas_scan_start_call(class_to_shost(dev), false);
	return count;
}
static DEVICE_ATTR_WO(rescan);

static struct attribute *vsas_rescan_attrs[] = {
	&dev_attr_rescan.attr,
	NULL
};

static const struct attribute_group vsas_rescan_group = {
	.attrs = vsas_rescan_attrs,
};

static const struct attribute_group *vsas_rescan_groups[] = {
	&vsas_rescan_group,
	NULL
};

static const struct scsi_host_template vsas_base_sht = {
	.module			= THIS_MODULE,
	.name			= VSAS_NAME,
	.proc_name		= VSAS_NAME,
	.queuecommand		= vsas_queuecommand,
	.init_cmd_priv		= vsas_init_cmd_priv,
	.target_alloc		= vsas_target_alloc,
#ifdef VSAS_HAVE_SDEV_INIT
	.sdev_init		= vsas_slave_alloc,
#else
	.slave_alloc		= vsas_slave_alloc,
#endif
	.eh_abort_handler	= vsas_eh_abort,
	.eh_device_reset_handler = vsas_eh_device_reset,
	.eh_host_reset_handler	= vsas_eh_host_reset,
	.can_queue		= 128,
	.this_id		= -1,
	.sg_tablesize		= SG_ALL,
	.max_sectors		= 1024,
	.cmd_per_lun		= 16,
	.cmd_size		= sizeof(struct vsas_cmd),
	.skip_settle_delay	= 1,
};

/* ---- SAS transport function template ------------------------------------ */

static struct vsas_host *vsas_phy_host(struct sas_phy *phy)
{
	struct Scsi_Host *shost = dev_to_shost(phy->dev.parent);

	return shost ? shost_to_vh(shost) : NULL;
}

static int vsas_get_linkerrors(struct sas_phy *phy)
{
	return 0;
}

static int vsas_phy_reset(struct sas_phy *phy, int hard_reset)
{
	struct vsas_host *vh = vsas_phy_host(phy);

	if (!vh)
		return -ENODEV;
	vsas_inc(vh, VSAS_C_RESETS);
	vsas_inc(vh, hard_reset ? VSAS_C_PHY_HARD_RESETS : VSAS_C_LINK_RESETS);
	vsas_fail_inflight(vh, NULL, DID_RESET);
	return 0;
}

static int vsas_phy_enable(struct sas_phy *phy, int enable)
{
	struct vsas_host *vh = vsas_phy_host(phy);

	if (!vh)
		return -ENODEV;
	if (!enable) {
		vsas_inc(vh, VSAS_C_PHY_DISABLES);
		vsas_inc(vh, VSAS_C_RESETS);
		vsas_fail_inflight(vh, NULL, DID_RESET);
	}
	return 0;
}

/* No SMP target behind the expander rphy: refuse requests. */
static void vsas_smp_handler(struct bsg_job *job, struct Scsi_Host *shost,
			     struct sas_rphy *rphy)
{
	bsg_job_done(job, -EOPNOTSUPP, 0);
}

/*
 * Would the modelled driver refuse to expose devices now (-EBUSY)? The
 * personality's busy_states: smartpqi/hpsa controller reset, removal,
 * discovery (OFA, blocked scans); mpt3sas wait_for_discovery_to_complete,
 * shost_recovery, remove_host, pci_error_recovery; mpi3mr reset_in_progress,
 * pci_err_recovery, stop_drv_processing (docs/vsas.md, fidelity table).
 */
static bool vsas_drv_busy(struct vsas_host *vh)
{
	return vh->pers->busy_states & BIT(READ_ONCE(vh->drv_state));
}

/*
 * What the fix series' ->user_scan_devices() of the personality's driver
 * reports, from the driver's device list only (no firmware is asked, no
 * sleeping; @fn is called under vh->lock): what the driver adds itself
 * outside the transport and would expose now, at the address its own add
 * path uses: per LUN with scsi_add_device() (smartpqi, hpsa volumes,
 * controllers and external volumes; mpt3sas RAID/PCIe at LUN 0),
 * SCAN_WILD_CARD for a target scsi_scan_target() scans whole (mpi3mr, only
 * host_exposed targets). Hidden and blocked devices are skipped. Returns 0,
 * -EBUSY in a driver state that forbids exposing devices, or @fn's error.
 * Used by the hook and by debugfs scan_devices (the lab's emulation).
 */
int vsas_collect_devices(struct vsas_host *vh, vsas_report_fn fn, void *ctx)
{
	unsigned int lun, first, count;
	struct vsas_dev *dev;
	unsigned long flags;
	int ret = 0;
	u8 method;

	if (vh->pers->no_user_scan)	/* no hook: nothing is ever reported */
		return 0;
	vsas_inc(vh, VSAS_C_USER_SCAN_REPORTS);
	if (vsas_drv_busy(vh)) {
		vsas_inc(vh, VSAS_C_USER_SCAN_BUSY);
		return -EBUSY;
	}
	spin_lock_irqsave(&vh->lock, flags);
	list_for_each_entry(dev, &vh->devs, node) {
		if (!vsas_dev_reportable(vh, dev))
			continue;
		method = vsas_dev_method(vh, dev);
		if (method == VSAS_ADD_SCAN_TARGET) {
			ret = fn(ctx, dev->channel, dev->id, SCAN_WILD_CARD);
			if (ret)
				break;
			vsas_inc(vh, VSAS_C_USER_SCAN_ENTRIES);
			continue;
		}
		vsas_dev_add_range(vh, dev, &first, &count);
		for (lun = first; lun < first + count && !ret; lun++) {
			ret = fn(ctx, dev->channel, dev->id, lun);
			if (!ret)
				vsas_inc(vh, VSAS_C_USER_SCAN_ENTRIES);
		}
		if (ret)
			break;
	}
	spin_unlock_irqrestore(&vh->lock, flags);
	if (ret == -ENOMEM)
		vsas_inc(vh, VSAS_C_USER_SCAN_ENOMEM);
	return ret;
}

#if defined(VSAS_HAVE_USER_SCAN_DEVICES) || defined(VSAS_HAVE_SET_USER_SCAN_DEVICES)
static int vsas_report_to_list(void *list, unsigned int channel,
			       unsigned int id, u64 lun)
{
	return sas_scan_report_device(list, channel, id, lun);
}

/* The fix series' ->user_scan_devices() (docs/design.md). */
static int vsas_user_scan_devices(struct Scsi_Host *shost,
				  struct sas_scan_list *list)
{
	struct vsas_host *vh = shost_to_vh(shost);

	if (!vh)
		return -EBUSY;
	return vsas_collect_devices(vh, vsas_report_to_list, list);
}
#endif

static struct sas_function_template vsas_sas_ft = {
	.get_linkerrors		= vsas_get_linkerrors,
	.smp_handler		= vsas_smp_handler,
	.phy_reset		= vsas_phy_reset,
	.phy_enable		= vsas_phy_enable,
#ifdef VSAS_HAVE_USER_SCAN_DEVICES
	.user_scan_devices	= vsas_user_scan_devices,
#endif
};

/* the same without ->user_scan_devices(): personalities with no_user_scan */
static struct sas_function_template vsas_sas_ft_nohook = {
	.get_linkerrors		= vsas_get_linkerrors,
	.smp_handler		= vsas_smp_handler,
	.phy_reset		= vsas_phy_reset,
	.phy_enable		= vsas_phy_enable,
};

/* ---- runtime PM of the host's parent device ----------------------------- */

/*
 * A suspended hisi_sas v3 controller blocks its host's requests until it
 * resumes (_suspend_v3_hw(), sas_suspend_ha()): a command queued meanwhile
 * waits, it does not reach queuecommand, and only a resume of the
 * controller (a disk's device link, power/control) lets it go.
 */
static int vsas_runtime_suspend(struct device *dev)
{
	struct vsas_host *vh = dev_get_drvdata(dev);

	if (vh->pers->rpm_links && vh->shost) {
		scsi_block_requests(vh->shost);
		vh->rpm_blocked = true;
	}
	vsas_inc(vh, VSAS_C_RUNTIME_SUSPENDS);
	return 0;
}

static int vsas_runtime_resume(struct device *dev)
{
	struct vsas_host *vh = dev_get_drvdata(dev);

	if (vh->rpm_blocked) {
		vh->rpm_blocked = false;
		if (vh->shost)
			scsi_unblock_requests(vh->shost);
	}
	vsas_inc(vh, VSAS_C_RUNTIME_RESUMES);
	return 0;
}

static const struct dev_pm_ops vsas_pm_ops = {
	SET_RUNTIME_PM_OPS(vsas_runtime_suspend, vsas_runtime_resume, NULL)
};

static const struct device_type vsas_dev_type = {
	.name = "vsas_host",
	.pm = &vsas_pm_ops,
};

static void vsas_pdev_release(struct device *dev)
{
	kfree(dev);
}

/* ---- host life cycle ----------------------------------------------------- */

struct vsas_host *vsas_host_new(const char *name)
{
	struct vsas_host *vh = kzalloc(sizeof(*vh), GFP_KERNEL);

	if (!vh)
		return NULL;
	vh->idx = ida_alloc(&vsas_ida, GFP_KERNEL);
	if (vh->idx < 0) {
		kfree(vh);
		return NULL;
	}
	strscpy(vh->name, name, sizeof(vh->name));
	mutex_init(&vh->cfg_lock);
	mutex_init(&vh->eh_lock);
	mutex_init(&vh->drv_scan_mutex);
	spin_lock_init(&vh->lock);
	init_waitqueue_head(&vh->scan_wait);
	INIT_LIST_HEAD(&vh->devs);
	INIT_LIST_HEAD(&vh->inflight);
	INIT_LIST_HEAD(&vh->node);
	vh->p.num_phys = 8;
	vh->p.capacity_mb = capacity_mb;
	vh->p.io_delay_ms = io_delay_ms;
	vh->p.autosuspend_ms = autosuspend_ms;
	vh->p.scan_on_create = true;
	vh->p.link_down_ms = 100;
	vh->p.can_queue = 128;
	mutex_lock(&vsas_hosts_lock);
	list_add_tail(&vh->node, &vsas_hosts);
	mutex_unlock(&vsas_hosts_lock);
	return vh;
}

void vsas_host_free(struct vsas_host *vh)
{
	struct vsas_dev *dev, *tmp;

	mutex_lock(&vsas_hosts_lock);
	list_del(&vh->node);
	mutex_unlock(&vsas_hosts_lock);
	list_for_each_entry_safe(dev, tmp, &vh->devs, node) {
		list_del_init(&dev->node);
		vsas_dev_put(dev);
	}
	ida_free(&vsas_ida, vh->idx);
	kfree(vh);
}

/* Apply the personality's defaults (called when the personality is set). */
void vsas_host_set_personality(struct vsas_host *vh,
			       const struct vsas_personality *pers)
{
	vh->pers = pers;
	vh->p.max_channel = pers->max_channel;
	vh->p.max_id = pers->max_id;
	vh->p.max_lun = pers->max_lun;
	vh->p.scan_ms = pers->scan_ms;
	vh->p.scan_timeout_ms = pers->scan_timeout_ms;
	vh->p.rescan_delay_ms = pers->rescan_delay_ms;
	vh->p.absent_delay_ms = 0;
}

int vsas_host_enable(struct vsas_host *vh)
{
	const struct vsas_personality *pers = vh->pers;
	struct Scsi_Host *shost;
	struct device *pdev;
	int ret;

	if (vh->enabled)
		return 0;
	if (!pers || vh->p.num_phys < 2 || vh->p.num_phys > VSAS_MAX_PHYS)
		return -EINVAL;

	pdev = kzalloc(sizeof(*pdev), GFP_KERNEL);
	if (!pdev)
		return -ENOMEM;
	device_initialize(pdev);
	pdev->parent = vsas_root;
	pdev->type = &vsas_dev_type;
	pdev->release = vsas_pdev_release;
	dev_set_drvdata(pdev, vh);
	dev_set_name(pdev, "vsas%d", vh->idx);
	ret = device_add(pdev);
	if (ret) {
		put_device(pdev);
		return ret;
	}
	vh->pdev = pdev;
	pm_runtime_set_active(pdev);
	pm_runtime_set_autosuspend_delay(pdev, vh->p.autosuspend_ms);
	pm_runtime_use_autosuspend(pdev);
	pm_runtime_enable(pdev);
	if (pers->rpm_links)
		pm_suspend_ignore_children(pdev, true);
	if (!vh->p.rpm_allow)
		pm_runtime_forbid(pdev);

	vh->fw_wq = alloc_ordered_workqueue("vsas%d_fw", WQ_MEM_RECLAIM, vh->idx);
	if (!vh->fw_wq) {
		ret = -ENOMEM;
		goto err_dev;
	}
	vsas_pers_init_host(vh);

	shost = scsi_host_alloc(&vsas_sht[pers - vsas_personalities],
				VSAS_SHOST_PRIV_SIZE);
	if (!shost) {
		ret = -ENOMEM;
		goto err_wq;
	}
	((struct vsas_host **)shost_priv(shost))[1] = vh;
	vh->shost = shost;
	shost->max_channel = vh->p.max_channel;
	shost->max_id = vh->p.max_id;
	shost->max_lun = vh->p.max_lun;
	shost->can_queue = vh->p.can_queue;
	shost->max_cmd_len = 16;

	if (pers->libsas) {
		ret = vsas_libsas_add(vh);
		if (ret)
			goto err_put;
	} else {
		shost->transportt = pers->no_user_scan ? vsas_sas_tt_nohook :
							 vsas_sas_tt;
		ret = scsi_add_host(shost, pdev);
		if (ret)
			goto err_put;
		ret = vsas_host_phys_add(vh);
		if (ret)
			goto err_remove;
	}
	vh->enabled = true;
	vsas_debugfs_add(vh);

	if (!pers->scan_start) {
		/* drivers without a scan hook add their devices at probe */
		vsas_sync_now(vh);
		vh->first_scan_done = true;
	}
	if (vh->p.scan_on_create) {
		scsi_scan_host(shost);
		/*
		 * With CONFIG_SCSI_SCAN_ASYNC (distribution kernels) the scan
		 * runs from async_schedule(): finish it, so that an enabled
		 * host has been scanned on every kernel.
		 */
		async_synchronize_full();
	}
	return 0;

err_remove:
	sas_remove_host(shost);
err_put:
	scsi_host_put(shost);
	vh->shost = NULL;
err_wq:
	destroy_workqueue(vh->fw_wq);
	vh->fw_wq = NULL;
err_dev:
	pm_runtime_disable(pdev);
	device_unregister(pdev);
	vh->pdev = NULL;
	return ret;
}

void vsas_host_disable(struct vsas_host *vh)
{
	struct Scsi_Host *shost = vh->shost;
	struct vsas_dev *dev;
	unsigned long flags;

	if (!vh->enabled)
		return;
	vh->isci_escape = true;		/* let a wedged isci scan end */
	/* removal must not wait on requests the suspended model blocks */
	pm_runtime_get_sync(vh->pdev);
	vsas_hook_drain(vh);
	vsas_debugfs_remove(vh);	/* waits for call_scan writers */
	cancel_delayed_work_sync(&vh->rescan_work);
	cancel_delayed_work_sync(&vh->pe_work);
	flush_workqueue(vh->fw_wq);

	if (vh->pers->libsas)
		vsas_libsas_remove(vh);
	else
		sas_remove_host(shost);
	destroy_workqueue(vh->fw_wq);
	vh->fw_wq = NULL;
	/* an async scan may still hold the Scsi_Host: let it find no host */
	spin_lock(&vsas_hook_lock);
	((struct vsas_host **)shost_priv(shost))[1] = NULL;
	spin_unlock(&vsas_hook_lock);
	scsi_host_put(shost);
	vh->shost = NULL;

	spin_lock_irqsave(&vh->lock, flags);
	list_for_each_entry(dev, &vh->devs, node) {
		dev->known = false;
		dev->exposed = false;
		dev->rphy = NULL;
		dev->port = NULL;
		dev->exp_phy = NULL;
		dev->ldev = NULL;
		if (vsas_dev_rphy(dev))
			dev->id = -1;
	}
	spin_unlock_irqrestore(&vh->lock, flags);
	memset(vh->phys, 0, sizeof(vh->phys));
	vh->exp_port = NULL;
	vh->exp_rphy = NULL;
	vh->exp_nphys = 0;
	vh->first_scan_done = false;
	vh->isci_escape = false;
	vh->removing = false;

	pm_runtime_disable(vh->pdev);
	pm_runtime_put_noidle(vh->pdev);
	pm_runtime_dont_use_autosuspend(vh->pdev);
	device_unregister(vh->pdev);
	vh->pdev = NULL;
	vh->enabled = false;
}

/* ---- module ------------------------------------------------------------- */

static int vsas_create_param_hosts(void)
{
	char *copy, *p, *tok;
	int ret = 0, n = 0;

	if (!hosts || !*hosts)
		return 0;
	copy = kstrdup(hosts, GFP_KERNEL);
	if (!copy)
		return -ENOMEM;
	p = copy;
	while ((tok = strsep(&p, ","))) {
		const struct vsas_personality *pers = vsas_find_personality(strim(tok));
		struct vsas_host *vh;
		char name[32];

		if (!pers) {
			pr_err("vsas: unknown personality '%s'\n", tok);
			ret = -EINVAL;
			break;
		}
		snprintf(name, sizeof(name), "param%d", n++);
		vh = vsas_host_new(name);
		if (!vh) {
			ret = -ENOMEM;
			break;
		}
		vh->param_host = true;
		vsas_host_set_personality(vh, pers);
		ret = vsas_parse_topology(vh, *topology ? topology : pers->topology);
		if (!ret)
			ret = vsas_host_enable(vh);
		if (ret) {
			vsas_host_free(vh);
			break;
		}
	}
	kfree(copy);
	return ret;
}

static void vsas_remove_param_hosts(void)
{
	struct vsas_host *vh, *tmp;

	list_for_each_entry_safe(vh, tmp, &vsas_hosts, node) {
		if (!vh->param_host)
			continue;
		mutex_lock(&vh->cfg_lock);
		vsas_host_disable(vh);
		mutex_unlock(&vh->cfg_lock);
		vsas_host_free(vh);
	}
}

static int __init vsas_init(void)
{
	unsigned int i;
	int ret = -ENOMEM;

	vsas_zero_buf = kzalloc(PAGE_SIZE, GFP_KERNEL);
	if (!vsas_zero_buf)
		return -ENOMEM;
	vsas_io_wq = alloc_workqueue("vsas_io", WQ_MEM_RECLAIM | WQ_HIGHPRI | WQ_UNBOUND, 0);
	if (!vsas_io_wq)
		goto err_zero;
	vsas_sht = kcalloc(vsas_nr_personalities, sizeof(*vsas_sht), GFP_KERNEL);
	if (!vsas_sht)
		goto err_wq;
	for (i = 0; i < vsas_nr_personalities; i++) {
		const struct vsas_personality *pers = &vsas_personalities[i];

		if (pers->libsas) {
			vsas_libsas_fill_sht(&vsas_sht[i], pers);
			continue;
		}
		vsas_sht[i] = vsas_base_sht;
		vsas_sht[i].proc_name = pers->proc_name;
		if (pers->scan_start) {
			vsas_sht[i].scan_start = vsas_hook_scan_start;
			vsas_sht[i].scan_finished = vsas_hook_scan_finished;
		}
		if (pers->rescan_attr)
			vsas_sht[i].shost_groups = vsas_rescan_groups;
		if (pers->forget_on_delete)
#ifdef VSAS_HAVE_SDEV_INIT
			vsas_sht[i].sdev_destroy = vsas_sdev_destroy;
#else
			vsas_sht[i].slave_destroy = vsas_sdev_destroy;
#endif
	}
	vsas_sas_tt = sas_attach_transport(&vsas_sas_ft);
	if (!vsas_sas_tt)
		goto err_sht;
#ifdef VSAS_HAVE_SET_USER_SCAN_DEVICES
	sas_set_user_scan_devices(vsas_sas_tt, vsas_user_scan_devices);
#endif
	vsas_sas_tt_nohook = sas_attach_transport(&vsas_sas_ft_nohook);
	if (!vsas_sas_tt_nohook)
		goto err_tt;
	ret = vsas_libsas_init();
	if (ret)
		goto err_tt2;
	vsas_root = root_device_register(VSAS_NAME);
	if (IS_ERR(vsas_root)) {
		ret = PTR_ERR(vsas_root);
		goto err_libsas;
	}
	vsas_debugfs_init();
	ret = vsas_configfs_init();
	if (ret)
		goto err_root;
	ret = vsas_create_param_hosts();
	if (ret)
		goto err_cfs;
	return 0;

err_cfs:
	vsas_remove_param_hosts();
	vsas_configfs_exit();
err_root:
	vsas_debugfs_exit();
	root_device_unregister(vsas_root);
err_libsas:
	vsas_libsas_exit();
err_tt2:
	sas_release_transport(vsas_sas_tt_nohook);
err_tt:
	sas_release_transport(vsas_sas_tt);
err_sht:
	kfree(vsas_sht);
err_wq:
	destroy_workqueue(vsas_io_wq);
err_zero:
	kfree(vsas_zero_buf);
	return ret;
}

static void __exit vsas_exit(void)
{
	vsas_remove_param_hosts();
	vsas_configfs_exit();	/* removes the configfs hosts */
	vsas_debugfs_exit();
	root_device_unregister(vsas_root);
	vsas_libsas_exit();
	sas_release_transport(vsas_sas_tt_nohook);
	sas_release_transport(vsas_sas_tt);
	kfree(vsas_sht);
	destroy_workqueue(vsas_io_wq);
	kfree(vsas_zero_buf);
}

module_init(vsas_init);
module_exit(vsas_exit);
MODULE_DESCRIPTION("Virtual SAS host adapter with real-driver scan personalities");
MODULE_AUTHOR("sasscan project");
MODULE_LICENSE("GPL");
