// SPDX-License-Identifier: GPL-2.0
/*
 * vsas: the personality table. Each entry is data plus small callbacks;
 * the facts and their sources (Linux 6.12) are listed in docs/vsas.md.
 */
#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/string.h>
#include <linux/workqueue.h>
#include "vsas.h"

#include <scsi/scsi_transport_sas.h>

/* ---- smartpqi: synchronous rescan under a driver mutex ------------------ */

static void pqi_scan(struct vsas_host *vh)
{
	if (!mutex_trylock(&vh->drv_scan_mutex)) {
		/* pqi_schedule_rescan_worker_delayed(): try again later */
		vsas_inc(vh, VSAS_C_SCAN_DEFERRED);
		mod_delayed_work(system_wq, &vh->rescan_work,
				 msecs_to_jiffies(vh->p.rescan_delay_ms));
		return;
	}
	vsas_driver_rescan(vh);
	mutex_unlock(&vh->drv_scan_mutex);
}

static void pqi_rescan_work(struct work_struct *work)
{
	struct vsas_host *vh = container_of(to_delayed_work(work),
					    struct vsas_host, rescan_work);

	pqi_scan(vh);
}

static void pqi_scan_start(struct vsas_host *vh)
{
	pqi_scan(vh);
}

static int pqi_scan_finished(struct vsas_host *vh, unsigned long time)
{
	return !mutex_is_locked(&vh->drv_scan_mutex);
}

/* ---- hpsa: one scan at a time, later callers wait or return ------------- */

static void hpsa_scan_start(struct vsas_host *vh)
{
	unsigned long flags;

	spin_lock_irqsave(&vh->lock, flags);
	if (vh->scan_waiting) {
		spin_unlock_irqrestore(&vh->lock, flags);
		vsas_inc(vh, VSAS_C_SCAN_DEFERRED);
		return;
	}
	while (!vh->scan_finished_flag) {
		vh->scan_waiting = true;
		spin_unlock_irqrestore(&vh->lock, flags);
		wait_event(vh->scan_wait, READ_ONCE(vh->scan_finished_flag));
		spin_lock_irqsave(&vh->lock, flags);
	}
	vh->scan_finished_flag = false;
	vh->scan_waiting = false;
	spin_unlock_irqrestore(&vh->lock, flags);

	vsas_driver_rescan(vh);

	spin_lock_irqsave(&vh->lock, flags);
	vh->scan_finished_flag = true;
	spin_unlock_irqrestore(&vh->lock, flags);
	wake_up_all(&vh->scan_wait);
}

static int hpsa_scan_finished(struct vsas_host *vh, unsigned long time)
{
	return READ_ONCE(vh->scan_finished_flag);
}

/* ---- mpt3sas / mpi3mr: asynchronous port enable -------------------------- */

/* PORT_ENABLE_COMPLETE on the ordered firmware event queue (mpt3sas). */
static void mpt3sas_pe_complete(struct vsas_host *vh, struct vsas_dev *unused)
{
	WRITE_ONCE(vh->start_scan, false);
	WRITE_ONCE(vh->port_enable_pending, false);
}

/*
 * The emulated firmware processes a port enable. At runtime it is a
 * re-initialisation: in-flight I/O fails and every device is re-reported.
 */
static void port_enable_work(struct work_struct *work)
{
	struct vsas_host *vh = container_of(to_delayed_work(work),
					    struct vsas_host, pe_work);
	bool mpt3sas = !strcmp(vh->pers->name, "mpt3sas");

	if (vh->first_scan_done)
		vsas_fw_reset(vh);
	vh->first_scan_done = true;
	vsas_queue_sync(vh);
	if (mpt3sas) {
		/* completion is an event queued behind the device adds */
		vsas_fw_call(vh, mpt3sas_pe_complete);
	} else {
		/* mpi3mr: completion callback, devices are added later */
		WRITE_ONCE(vh->start_scan, false);
		WRITE_ONCE(vh->port_enable_pending, false);
	}
}

static void pe_scan_start(struct vsas_host *vh)
{
	bool mpt3sas = !strcmp(vh->pers->name, "mpt3sas");

	WRITE_ONCE(vh->start_scan, true);
	if (READ_ONCE(vh->port_enable_pending)) {
		/* mpt3sas: "port_enable: pending"; mpi3mr: init_cmds busy */
		vsas_inc(vh, VSAS_C_PORT_ENABLE_BUSY);
		if (!mpt3sas)
			WRITE_ONCE(vh->start_scan, false);
		return;
	}
	WRITE_ONCE(vh->port_enable_pending, true);
	vsas_inc(vh, VSAS_C_PORT_ENABLES);
	queue_delayed_work(system_unbound_wq, &vh->pe_work,
			   msecs_to_jiffies(vh->p.scan_ms));
}

static int pe_scan_finished(struct vsas_host *vh, unsigned long time)
{
	if (vh->p.scan_timeout_ms &&
	    time >= msecs_to_jiffies(vh->p.scan_timeout_ms)) {
		vsas_inc(vh, VSAS_C_SCAN_TIMEOUTS);
		WRITE_ONCE(vh->port_enable_pending, false);
		if (strcmp(vh->pers->name, "mpt3sas"))
			WRITE_ONCE(vh->start_scan, false);
		return 1;
	}
	return !READ_ONCE(vh->start_scan);
}

/* mpt3sas: channel 1/2 look up by id, a miss still returns 0 */
static int mpt3sas_target_alloc(struct vsas_host *vh,
				struct scsi_target *starget,
				struct vsas_dev *dev)
{
	return 0;
}

/* mpi3mr (transport mode): -ENXIO for an unknown perst id */
static int mpi3mr_target_alloc(struct vsas_host *vh,
			       struct scsi_target *starget,
			       struct vsas_dev *dev)
{
	if (starget->channel == 1)
		return dev && vsas_dev_usable(dev) ? 0 : -ENXIO;
	if (starget->channel == 0) {
		if (!scsi_is_sas_rphy(starget->dev.parent)) {
			/* dev_to_rphy(parent)->identify on a non-rphy */
			vsas_inc(vh, VSAS_C_TARGET_ALLOC_WILD);
			return -ENXIO;
		}
		return dev && vsas_dev_usable(dev) ? 0 : -ENXIO;
	}
	return 0;
}

void vsas_pers_init_host(struct vsas_host *vh)
{
	INIT_DELAYED_WORK(&vh->rescan_work, pqi_rescan_work);
	INIT_DELAYED_WORK(&vh->pe_work, port_enable_work);
	vh->scan_finished_flag = true;
	vh->scan_waiting = false;
	vh->start_scan = false;
	vh->port_enable_pending = false;
	vh->scan_starts = 0;
	vh->isci_start_pending = false;
	vh->mvsas_flag = false;
}

const struct vsas_personality vsas_personalities[] = {
	{
		.name = "plain",
		.proc_name = "vsas_plain",
		.max_channel = 0, .max_id = 16, .max_lun = 8,
		.add_method = { VSAS_ADD_RPHY, VSAS_ADD_DEVICE,
				VSAS_ADD_DEVICE, VSAS_ADD_DEVICE },
		.model = { "SAS DISK", "CH1 DISK", "CH2 DISK", "CH3 DISK" },
		.per_lun = true,
		.busy_states = BIT(VSAS_DS_RESET) | BIT(VSAS_DS_REMOVING),
		.absent = VSAS_ABSENT_NO_CONNECT,
		.topology = "0 0 0e",
	},
	/*
	 * smartpqi: pqi_assign_bus_target_lun() (smartpqi_init.c:1366-1404 in
	 * 6.12, :1368-1406 in 7.3): local volumes (1, 0, lunid & 0x3fff), the
	 * controller (2, 0, 0), external volumes (3, (lunid >> 16) & 0x3fff,
	 * lunid & 0xff); each added by scsi_add_device(shost, bus, target, lun)
	 * (:1912 / :1914), removed by scsi_remove_device() (:1939 / :1941),
	 * looked up by exact (bus, target, lun) (:6555 / :6586).
	 *
	 * A user's sysfs delete makes the driver forget the device:
	 * pqi_slave_destroy() (6.12 :6613-6652) / pqi_sdev_destroy() (7.3
	 * :6645-6684, .sdev_destroy at :7771; 6.12 .slave_destroy at :7597)
	 * mutex_trylock()s ctrl_info->scan_mutex and, if it gets it, drops
	 * lun_count and at 0 unlinks and frees the device (forget_on_delete,
	 * vsas_sdev_destroy()). The driver's own scan adds it again: the host's
	 * "rescan" attribute, pqi_host_rescan_store() (6.12 :6987, 7.3 :7161)
	 * -> pqi_scan_start() (:2622 / :2635) -> pqi_scan_scsi_devices(), and
	 * the rescan worker. So the fix series gives smartpqi no
	 * ->user_scan_devices() hook (docs/design.md, "smartpqi — no hook"):
	 * its hosts get a SAS transport template without one (no_user_scan).
	 */
	{
		.name = "smartpqi",
		.proc_name = "vsas_smartpqi",
		.rescan_attr = true,
		.no_user_scan = true,
		.forget_on_delete = true,
		.max_channel = 3, .max_id = ~0U, .max_lun = 256,
		.add_method = { VSAS_ADD_RPHY, VSAS_ADD_DEVICE,
				VSAS_ADD_DEVICE, VSAS_ADD_DEVICE },
		.model = { "SAS DISK", "LOGICAL VOLUME", "RAID CTRL",
			   "EXT LOGICAL VOL" },
		.per_lun = true,
		.busy_states = BIT(VSAS_DS_RESET) | BIT(VSAS_DS_DISCOVERY) |
			       BIT(VSAS_DS_REMOVING),
		.absent = VSAS_ABSENT_NO_CONNECT,
		.scan_ms = 0, .rescan_delay_ms = 10000,
		.topology = "0 0 1:0 1:1",
		.scan_start = pqi_scan_start,
		.scan_finished = pqi_scan_finished,
	},
	/*
	 * hpsa: figure_bus_target_lun() (hpsa.c:4057-4086 in 6.12, :4043-4072
	 * in 7.3): local volumes (1, 0, lunid & 0x3fff), external volumes (2,
	 * (lunid >> 16) & 0x3fff, lunid & 0xff), the controller (3, 0, lunid &
	 * 0x3fff) if its INQUIRY version is 0, else (0, 0, lunid & 0x3fff)
	 * (bus0_ctrl: topology "0:0:L"); scsi_add_device() per LUN (:1822 /
	 * :1816), scsi_remove_device() (:1903 / :1897), lookup by exact (bus,
	 * target, lun) (:2131 / :2125). A version-5 controller is listed as a
	 * physical device (raid_ctlr_position 0: :4411-4425 / :4397-4411) and
	 * added as an rphy (:1825 / :1819), as a plain "0" is.
	 */
	{
		.name = "hpsa",
		.proc_name = "vsas_hpsa",
		.rescan_attr = true,
		.bus0_ctrl = true,
		.max_channel = 3, .max_id = 1024, .max_lun = 1024,
		.add_method = { VSAS_ADD_RPHY, VSAS_ADD_DEVICE,
				VSAS_ADD_DEVICE, VSAS_ADD_DEVICE },
		.model = { "SAS DISK", "LOGICAL VOLUME", "EXT LOGICAL VOL",
			   "LEGACY CTRL" },
		.per_lun = true,
		.busy_states = BIT(VSAS_DS_RESET) | BIT(VSAS_DS_DISCOVERY) |
			       BIT(VSAS_DS_REMOVING),
		.absent = VSAS_ABSENT_NO_CONNECT,
		.topology = "0 0 1:0 1:1",
		.scan_start = hpsa_scan_start,
		.scan_finished = hpsa_scan_finished,
	},
	/*
	 * mpt3sas: scsi_add_device(shost, RAID_CHANNEL, id, 0) (mpt3sas_scsih.c
	 * :9058, :9475, :11453, :11526 in 6.12; :10285, :10702, :12727, :12800
	 * in 7.3) and (PCIE_CHANNEL, id, 0) (:1379, :11470; :1436, :12744);
	 * BLOCKED PCIe devices listed, never added (:7863-7869; :9031-9037).
	 */
	{
		.name = "mpt3sas",
		.proc_name = "vsas_mpt3sas",
		.remove_target = true,
		.max_channel = 0, .max_id = ~0U, .max_lun = 16895,
		/* scsi_add_device(shost, RAID_CHANNEL|PCIE_CHANNEL, id, 0) */
		.add_lun0 = true,
		.busy_states = BIT(VSAS_DS_RESET) | BIT(VSAS_DS_DISCOVERY) |
			       BIT(VSAS_DS_REMOVING),
		.add_method = { VSAS_ADD_RPHY, VSAS_ADD_DEVICE,
				VSAS_ADD_DEVICE, VSAS_ADD_NONE },
		.model = { "SAS DISK", "RAID VOLUME", "NVME DISK", NULL },
		.absent = VSAS_ABSENT_NO_CONNECT,
		.scan_ms = 200, .scan_timeout_ms = 300000,
		.topology = "0 0 0e 1:0 2:0",
		.scan_start = pe_scan_start,
		.scan_finished = pe_scan_finished,
		.target_alloc = mpt3sas_target_alloc,
	},
	/*
	 * mpi3mr: scsi_scan_target(&shost->shost_gendev, scsi_device_channel
	 * (1 with the transport: mpi3mr_fw.c:4268 / :4419), perst_id,
	 * SCAN_WILD_CARD, SCSI_SCAN_INITIAL) (mpi3mr_os.c:983-985 in 6.12 and
	 * 7.3); refused while reset_in_progress/pci_err_recovery (:966), skips
	 * is_hidden/host_exposed (:974), sets host_exposed (:980).
	 */
	{
		.name = "mpi3mr",
		.proc_name = "vsas_mpi3mr",
		.remove_target = true,
		.max_channel = 1, .max_id = 1024, .max_lun = ~0ULL,
		.add_method = { VSAS_ADD_RPHY, VSAS_ADD_SCAN_TARGET,
				VSAS_ADD_NONE, VSAS_ADD_NONE },
		.model = { "SAS DISK", "NVME DISK", NULL, NULL },
		.absent = VSAS_ABSENT_ENXIO,
		/* reset_in_progress/pci_err_recovery, stop_drv_processing */
		.busy_states = BIT(VSAS_DS_RESET) | BIT(VSAS_DS_REMOVING),
		.scan_ms = 200, .scan_timeout_ms = 300000,
		.topology = "0 0 1:0 1:1",
		.scan_start = pe_scan_start,
		.scan_finished = pe_scan_finished,
		.target_alloc = mpi3mr_target_alloc,
	},
	{
		.name = "hisi_sas",
		.proc_name = "vsas_hisi_sas",
		.libsas = true,
		/* v3 probe: pm_suspend_ignore_children(); sdev_configure_v3_hw() */
		.rpm_links = true,
		.max_channel = 0, .max_id = 1024, .max_lun = ~0ULL,
		.add_method = { VSAS_ADD_RPHY },
		.model = { "SAS DISK" },
		.scan_ms = 1000,
		.topology = "0 0",
		.scan_start = vsas_ls_scan_start_phy_enable,
		.scan_finished = vsas_ls_scan_finished_timed,
	},
	{
		.name = "aic94xx",
		.proc_name = "vsas_aic94xx",
		.libsas = true,
		.max_channel = 0, .max_id = ~0U, .max_lun = ~0ULL,
		.add_method = { VSAS_ADD_RPHY },
		.model = { "SAS DISK" },
		.scan_ms = 1000,
		.topology = "0 0",
		.scan_start = vsas_ls_scan_start_phy_enable,
		.scan_finished = vsas_ls_scan_finished_timed,
	},
	{
		.name = "isci",
		.proc_name = "vsas_isci",
		.libsas = true,
		.max_channel = 0, .max_id = ~0U, .max_lun = ~0ULL,
		.add_method = { VSAS_ADD_RPHY },
		.model = { "SAS DISK" },
		.topology = "0 0",
		.scan_start = vsas_ls_isci_scan_start,
		.scan_finished = vsas_ls_isci_scan_finished,
	},
	{
		.name = "mvsas",
		.proc_name = "vsas_mvsas",
		.libsas = true,
		.max_channel = 1, .max_id = 1024, .max_lun = ~0ULL,
		.add_method = { VSAS_ADD_RPHY },
		.model = { "SAS DISK" },
		.topology = "0 0",
		.scan_start = vsas_ls_mvsas_scan_start,
		.scan_finished = vsas_ls_mvsas_scan_finished,
	},
	{
		.name = "pm8001",
		.proc_name = "vsas_pm8001",
		.libsas = true,
		.max_channel = 0, .max_id = 2048, .max_lun = 8,
		.add_method = { VSAS_ADD_RPHY },
		.model = { "SAS DISK" },
		.scan_ms = 1000,
		.topology = "0 0",
		.scan_start = vsas_ls_pm8001_scan_start,
		.scan_finished = vsas_ls_scan_finished_timed,
	},
};

const unsigned int vsas_nr_personalities = ARRAY_SIZE(vsas_personalities);

const struct vsas_personality *vsas_find_personality(const char *name)
{
	unsigned int i;

	for (i = 0; i < vsas_nr_personalities; i++)
		if (sysfs_streq(vsas_personalities[i].name, name))
			return &vsas_personalities[i];
	return NULL;
}
