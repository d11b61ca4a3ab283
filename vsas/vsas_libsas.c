// SPDX-License-Identifier: GPL-2.0
/*
 * vsas: libsas LLDD mode (hisi_sas, aic94xx, isci, mvsas, pm8001).
 *
 * vsas registers a sas_ha_struct with PHYs and ports and drives the real
 * libsas: a device is "attached" to a host PHY; bringing the link up fills
 * the PHY's IDENTIFY frame and notifies PHYE_OOB_DONE + PORTE_BYTES_DMAED,
 * so libsas forms a port and discovers the end device; taking it down
 * notifies PHYE_LOSS_OF_SIGNAL. SSP tasks run on the common SCSI target
 * emulation. Each personality's scan_start/scan_finished acts on the PHYs
 * the way its driver does.
 */
#include <linux/delay.h>
#include <linux/scatterlist.h>
#include <linux/jiffies.h>
#include <linux/pm_runtime.h>
#include <linux/slab.h>
#ifdef VSAS_HAVE_LINUX_UNALIGNED
#include <linux/unaligned.h>
#else
#include <asm/unaligned.h>
#endif
#include <scsi/libsas.h>
#include <scsi/sas.h>
#include <scsi/scsi_device.h>
#include <scsi/scsi_transport_sas.h>

#include "vsas.h"

struct vsas_lphy {
	struct asd_sas_phy sas_phy;
	struct asd_sas_port sas_port;
	struct vsas_host *vh;
	unsigned int idx;
	u8 frame[sizeof(struct sas_identify_frame)];
	bool is_exp;		/* the edge expander is attached here */
	bool enabled;		/* not disabled through lldd_control_phy */
	bool up;		/* link up announced to libsas */
	struct vsas_dev *dev;	/* attached device (vh->lock) */
	struct delayed_work up_work;
};

struct vsas_ls {
	struct sas_ha_struct sha;
	u8 sas_addr[SAS_ADDR_SIZE];
	struct asd_sas_phy *phy_arr[VSAS_MAX_PHYS];
	struct asd_sas_port *port_arr[VSAS_MAX_PHYS];
	struct vsas_lphy phys[VSAS_MAX_PHYS];
	bool dying;
	bool disco_pending;	/* scan_start announced links with devices */
	/* edge expander (SMP target) on the last host PHY, if used */
	bool has_exp;
	u64 exp_addr;
	u16 exp_change_count;
	struct vsas_dev *exp_devs[VSAS_EXP_PHYS];	/* vh->lock */
	u8 exp_phy_cc[VSAS_EXP_PHYS];
};

static struct scsi_transport_template *vsas_ls_tt;

static void vsas_ls_broadcast(struct vsas_host *vh);

static struct vsas_ls *vh_ls(struct vsas_host *vh)
{
	return vh->lsas;
}

static struct vsas_host *ha_vh(struct sas_ha_struct *sha)
{
	return sha->lldd_ha;
}

/* ---- links -------------------------------------------------------------- */

static void vsas_ls_fill_frame(struct vsas_lphy *lp, struct vsas_dev *dev)
{
	struct sas_identify_frame *id = (struct sas_identify_frame *)lp->frame;
	struct asd_sas_phy *sp = &lp->sas_phy;
	u64 addr = dev ? dev->sas_addr : vh_ls(lp->vh)->exp_addr;
	unsigned long flags;

	spin_lock_irqsave(&sp->frame_rcvd_lock, flags);
	memset(lp->frame, 0, sizeof(lp->frame));
	id->frame_type = 0;		/* IDENTIFY */
	if (dev) {
		id->dev_type = SAS_END_DEVICE;
		id->ssp_tport = 1;
	} else {
		id->dev_type = SAS_EDGE_EXPANDER_DEVICE;
		id->smp_tport = 1;
	}
	put_unaligned_be64(addr, id->sas_addr);
	id->phy_id = 0;
	sp->frame_rcvd_size = sizeof(*id);
	spin_unlock_irqrestore(&sp->frame_rcvd_lock, flags);
	put_unaligned_be64(addr, sp->attached_sas_addr);
	sp->oob_mode = SAS_OOB_MODE;
	sp->linkrate = SAS_LINK_RATE_12_0_GBPS;
	sp->tproto = dev ? SAS_PROTOCOL_SSP : SAS_PROTOCOL_SMP;
	if (sp->phy)
		sp->phy->negotiated_linkrate = SAS_LINK_RATE_12_0_GBPS;
}

/*
 * A PHY event comes from a working controller: hisi_sas v3 takes a runtime
 * PM reference in its PHY-up interrupt (phy_up_v3_hw()), and libsas holds
 * the controller while it handles the event and the discovery it starts
 * (sas_notify_port_event(), sas_port_event_worker()). vsas makes its events
 * in software, so a controller that may be suspended is resumed first.
 */
static void vsas_ls_event_begin(struct vsas_host *vh)
{
	if (vh->pers->rpm_links)
		pm_runtime_get_sync(vh->pdev);
}

static void vsas_ls_event_end(struct vsas_host *vh)
{
	if (vh->pers->rpm_links)
		pm_runtime_put(vh->pdev);
}

/*
 * Tell libsas the link of @lp is up (OOB done, IDENTIFY received) with @dev
 * at its end, or the expander when @dev is NULL. Called with lp->up just set.
 */
static void vsas_ls_announce(struct vsas_host *vh, struct vsas_lphy *lp,
			     struct vsas_dev *dev)
{
	vsas_ls_fill_frame(lp, dev);
	vsas_ls_event_begin(vh);
	sas_notify_phy_event(&lp->sas_phy, PHYE_OOB_DONE, GFP_KERNEL);
	sas_notify_port_event(&lp->sas_phy, PORTE_BYTES_DMAED, GFP_KERNEL);
	vsas_ls_event_end(vh);
	vsas_add(vh, VSAS_C_PHY_EVENTS, 2);
}

/* Announce the link of PHY @lp if a present device is attached. */
static bool vsas_ls_link_up(struct vsas_host *vh, struct vsas_lphy *lp)
{
	struct vsas_ls *ls = vh_ls(vh);
	struct vsas_dev *dev;
	unsigned long flags;

	spin_lock_irqsave(&vh->lock, flags);
	dev = lp->dev;
	if (lp->is_exp) {
		if (ls->dying || !lp->enabled || lp->up) {
			spin_unlock_irqrestore(&vh->lock, flags);
			return false;
		}
		lp->up = true;
		spin_unlock_irqrestore(&vh->lock, flags);
		vsas_ls_announce(vh, lp, NULL);
		return true;
	}
	if (dev && !dev->in_fw && !lp->up) {
		/* unplugged meanwhile: the PHY is free again */
		lp->dev = NULL;
		spin_unlock_irqrestore(&vh->lock, flags);
		vsas_dev_put(dev);
		return false;
	}
	if (ls->dying || !dev || !lp->enabled || lp->up) {
		spin_unlock_irqrestore(&vh->lock, flags);
		return false;
	}
	lp->up = true;
	spin_unlock_irqrestore(&vh->lock, flags);
	vsas_ls_announce(vh, lp, dev);
	return true;
}

static void vsas_ls_up_work(struct work_struct *work)
{
	struct vsas_lphy *lp = container_of(to_delayed_work(work),
					    struct vsas_lphy, up_work);

	vsas_ls_link_up(lp->vh, lp);
}

/* Take the link of @lp down: in-flight I/O on it fails, libsas is told. */
static bool vsas_ls_link_down(struct vsas_host *vh, struct vsas_lphy *lp)
{
	struct vsas_ls *ls = vh_ls(vh);
	struct vsas_dev *dev;
	unsigned long flags;
	bool was;

	spin_lock_irqsave(&vh->lock, flags);
	was = lp->up;
	lp->up = false;
	dev = lp->dev;
	if (dev)
		kref_get(&dev->kref);
	spin_unlock_irqrestore(&vh->lock, flags);
	if (dev) {
		vsas_fail_inflight(vh, dev, DID_NO_CONNECT);
		vsas_dev_put(dev);
	}
	if (lp->is_exp) {
		unsigned int i;

		for (i = 0; i < VSAS_EXP_PHYS; i++) {
			spin_lock_irqsave(&vh->lock, flags);
			dev = ls->exp_devs[i];
			if (dev)
				kref_get(&dev->kref);
			spin_unlock_irqrestore(&vh->lock, flags);
			if (dev) {
				vsas_fail_inflight(vh, dev, DID_NO_CONNECT);
				vsas_dev_put(dev);
			}
		}
	}
	if (!was || ls->dying)
		return was;
	lp->sas_phy.oob_mode = OOB_NOT_CONNECTED;
	lp->sas_phy.linkrate = SAS_LINK_RATE_UNKNOWN;
	vsas_ls_event_begin(vh);
	sas_notify_phy_event(&lp->sas_phy, PHYE_LOSS_OF_SIGNAL, GFP_KERNEL);
	vsas_ls_event_end(vh);
	vsas_inc(vh, VSAS_C_PHY_EVENTS);
	return was;
}

/*
 * Link reset / PHY re-enable: down, then up after link_down_ms. Returns
 * whether a device will come back on it.
 */
int vsas_libsas_phy_cycle(struct vsas_host *vh, unsigned int phy, bool hard)
{
	struct vsas_ls *ls = vh_ls(vh);
	struct vsas_lphy *lp = &ls->phys[phy];
	unsigned long flags;
	bool dev;

	vsas_inc(vh, VSAS_C_RESETS);
	vsas_inc(vh, hard ? VSAS_C_PHY_HARD_RESETS : VSAS_C_LINK_RESETS);
	vsas_ls_link_down(vh, lp);
	spin_lock_irqsave(&vh->lock, flags);
	lp->enabled = true;
	dev = lp->is_exp || (lp->dev && lp->dev->in_fw);
	spin_unlock_irqrestore(&vh->lock, flags);
	mod_delayed_work(system_wq, &lp->up_work,
			 msecs_to_jiffies(vh->p.link_down_ms));
	return dev;
}

/* Attach @dev to a free PHY ("plugged in"); -ENOSPC if none. */
static int vsas_ls_attach(struct vsas_host *vh, struct vsas_dev *dev)
{
	struct vsas_ls *ls = vh_ls(vh);
	unsigned long flags;
	unsigned int i;
	int ret = -ENOSPC;

	spin_lock_irqsave(&vh->lock, flags);
	if (dev->expander) {
		for (i = 0; i < VSAS_EXP_PHYS; i++) {
			if (ls->exp_devs[i] == dev) {
				ret = i;
				break;
			}
		}
		for (i = 0; ret < 0 && ls->has_exp && i < VSAS_EXP_PHYS; i++) {
			if (!ls->exp_devs[i]) {
				kref_get(&dev->kref);
				ls->exp_devs[i] = dev;
				dev->phy = i;
				ret = i;
			}
		}
		spin_unlock_irqrestore(&vh->lock, flags);
		return ret;
	}
	for (i = 0; i < vh->p.num_phys; i++) {
		if (ls->phys[i].dev == dev) {
			ret = i;
			break;
		}
	}
	for (i = 0; ret < 0 && i < vh->p.num_phys; i++) {
		if (!ls->phys[i].dev && !ls->phys[i].is_exp) {
			kref_get(&dev->kref);
			ls->phys[i].dev = dev;
			dev->phy = i;
			ret = i;
		}
	}
	spin_unlock_irqrestore(&vh->lock, flags);
	return ret;
}

bool vsas_libsas_has_exp(struct vsas_host *vh)
{
	return vh->lsas && vh_ls(vh)->has_exp;
}

/* Silent hot-add: plugged into a free PHY, no link event. */
int vsas_libsas_plug(struct vsas_host *vh, struct vsas_dev *dev)
{
	int phy = vsas_ls_attach(vh, dev);

	if (phy >= 0 && dev->expander)
		vh_ls(vh)->exp_phy_cc[phy]++;
	return phy;
}

/* "Noticed" hot-add: the device is plugged in and its link comes up. */
int vsas_libsas_expose(struct vsas_host *vh, struct vsas_dev *dev)
{
	int phy = vsas_ls_attach(vh, dev);

	if (phy < 0)
		return phy;
	if (dev->expander) {
		vh_ls(vh)->exp_phy_cc[phy]++;
		vsas_ls_broadcast(vh);
		return 0;
	}
	vsas_ls_link_up(vh, &vh_ls(vh)->phys[phy]);
	return 0;
}

/* "Noticed" hot-remove: the link goes down, the PHY is free again. */
void vsas_libsas_unexpose(struct vsas_host *vh, struct vsas_dev *dev)
{
	struct vsas_ls *ls = vh_ls(vh);
	unsigned long flags;
	unsigned int i;

	if (dev->expander) {
		for (i = 0; i < VSAS_EXP_PHYS; i++) {
			spin_lock_irqsave(&vh->lock, flags);
			if (ls->exp_devs[i] != dev) {
				spin_unlock_irqrestore(&vh->lock, flags);
				continue;
			}
			ls->exp_devs[i] = NULL;
			ls->exp_phy_cc[i]++;
			spin_unlock_irqrestore(&vh->lock, flags);
			vsas_fail_inflight(vh, dev, DID_NO_CONNECT);
			vsas_dev_put(dev);
			vsas_ls_broadcast(vh);
		}
		return;
	}
	for (i = 0; i < vh->p.num_phys; i++) {
		struct vsas_lphy *lp = &ls->phys[i];

		if (READ_ONCE(lp->dev) != dev)
			continue;
		cancel_delayed_work_sync(&lp->up_work);
		vsas_ls_link_down(vh, lp);
		spin_lock_irqsave(&vh->lock, flags);
		lp->dev = NULL;
		spin_unlock_irqrestore(&vh->lock, flags);
		vsas_dev_put(dev);
	}
}

/* Silent adds also plug the device in, without any event. */
static void vsas_ls_attach_all(struct vsas_host *vh)
{
	struct vsas_dev *dev;
	unsigned long flags;
	bool again;

	do {
		again = false;
		spin_lock_irqsave(&vh->lock, flags);
		list_for_each_entry(dev, &vh->devs, node) {
			if (dev->in_fw && dev->channel == 0 &&
			    (dev->expander ?
			     (!vh_ls(vh)->has_exp || dev->phy >= VSAS_EXP_PHYS ||
			      vh_ls(vh)->exp_devs[dev->phy] != dev) :
			     (dev->phy >= vh->p.num_phys ||
			      vh_ls(vh)->phys[dev->phy].dev != dev))) {
				kref_get(&dev->kref);
				spin_unlock_irqrestore(&vh->lock, flags);
				vsas_ls_attach(vh, dev);
				vsas_dev_put(dev);
				again = true;
				break;
			}
		}
		if (!again)
			spin_unlock_irqrestore(&vh->lock, flags);
	} while (again);
}

/* ---- scan hooks ---------------------------------------------------------- */

/* hisi_sas phys_init / aic94xx asd_enable_phys: every PHY (re-)enabled. */
void vsas_ls_scan_start_phy_enable(struct vsas_host *vh)
{
	struct vsas_ls *ls = vh_ls(vh);
	unsigned int i;

	vsas_ls_attach_all(vh);
	for (i = 0; i < vh->p.num_phys; i++) {
		struct vsas_lphy *lp = &ls->phys[i];

		if (READ_ONCE(lp->up)) {
			if (vsas_libsas_phy_cycle(vh, i, false))
				ls->disco_pending = true;
		} else {
			lp->enabled = true;
			if (vsas_ls_link_up(vh, lp))
				ls->disco_pending = true;
		}
	}
}

/*
 * hisi_sas/aic94xx/pm8001: 0 for the first second (scan_ms), then
 * sas_drain_work() and 1. sas_drain_work() waits for discovery, whose
 * sas_rphy_add() takes scan_mutex: with the caller holding it, the real
 * driver deadlocks; vsas counts that and skips the drain unless
 * deadlock_real.
 */
int vsas_ls_scan_finished_timed(struct vsas_host *vh, unsigned long time)
{
	struct vsas_ls *ls = vh_ls(vh);

	if (time < msecs_to_jiffies(vh->p.scan_ms))
		return 0;
	if (vsas_scan_mutex_held(vh) && ls->disco_pending) {
		vsas_inc(vh, VSAS_C_SCAN_WOULD_DEADLOCK);
		if (!vh->p.deadlock_real) {
			ls->disco_pending = false;
			return 1;
		}
	}
	ls->disco_pending = false;
	sas_drain_work(&ls->sha);
	return 1;
}

/*
 * isci: scan_start = isci_host_start(): the first call starts the controller
 * (all links come up) and completes; a later call sets START_PENDING, the
 * controller rejects the start and nothing ever clears it.
 */
void vsas_ls_isci_scan_start(struct vsas_host *vh)
{
	struct vsas_ls *ls = vh_ls(vh);
	unsigned int i;

	WRITE_ONCE(vh->isci_start_pending, true);
	if (vh->scan_starts++) {
		dev_warn(&vh->shost->shost_gendev,
			 "vsas(isci): controller start in invalid state\n");
		vsas_inc(vh, VSAS_C_SCAN_STUCK);
		return;
	}
	vsas_inc(vh, VSAS_C_FW_RESETS);
	vsas_inc(vh, VSAS_C_RESETS);
	vsas_ls_attach_all(vh);
	for (i = 0; i < vh->p.num_phys; i++) {
		ls->phys[i].enabled = true;
		if (vsas_ls_link_up(vh, &ls->phys[i]))
			ls->disco_pending = true;
	}
	WRITE_ONCE(vh->isci_start_pending, false);	/* start complete */
}

int vsas_ls_isci_scan_finished(struct vsas_host *vh, unsigned long time)
{
	struct vsas_ls *ls = vh_ls(vh);

	if (READ_ONCE(vh->isci_start_pending)) {
		if (!READ_ONCE(vh->isci_escape))
			return 0;
		WRITE_ONCE(vh->isci_start_pending, false);
	}
	return vsas_ls_scan_finished_timed(vh, ~0UL) && !ls->dying;
}

/* mvsas: per attached PHY, PHYE_OOB_DONE + PORTE_BYTES_DMAED again. */
void vsas_ls_mvsas_scan_start(struct vsas_host *vh)
{
	struct vsas_ls *ls = vh_ls(vh);
	unsigned int i;

	vsas_ls_attach_all(vh);
	for (i = 0; i < vh->p.num_phys; i++) {
		struct vsas_lphy *lp = &ls->phys[i];
		struct vsas_dev *dev;
		unsigned long flags;

		spin_lock_irqsave(&vh->lock, flags);
		dev = lp->dev;
		if ((!lp->is_exp && (!dev || !dev->in_fw)) || !lp->enabled ||
		    ls->dying) {
			spin_unlock_irqrestore(&vh->lock, flags);
			continue;
		}
		if (!lp->up)
			ls->disco_pending = true;
		lp->up = true;
		spin_unlock_irqrestore(&vh->lock, flags);
		vsas_ls_announce(vh, lp, dev);
	}
	WRITE_ONCE(vh->mvsas_flag, true);
}

int vsas_ls_mvsas_scan_finished(struct vsas_host *vh, unsigned long time)
{
	if (!READ_ONCE(vh->mvsas_flag))
		return 0;
	return vsas_ls_scan_finished_timed(vh, ~0UL);
}

/*
 * pm8001: controller re-init request, then per PHY a start request waited
 * for without timeout, and 300 ms of sleep each.
 */
void vsas_ls_pm8001_scan_start(struct vsas_host *vh)
{
	struct vsas_ls *ls = vh_ls(vh);
	unsigned int i;

	vsas_inc(vh, VSAS_C_FW_RESETS);
	vsas_inc(vh, VSAS_C_RESETS);
	vsas_ls_attach_all(vh);
	for (i = 0; i < vh->p.num_phys; i++) {
		struct vsas_lphy *lp = &ls->phys[i];

		if (READ_ONCE(lp->up)) {
			vsas_inc(vh, VSAS_C_RESETS);
			vsas_inc(vh, VSAS_C_LINK_RESETS);
			vsas_ls_link_down(vh, lp);
		}
		lp->enabled = true;
		if (vsas_ls_link_up(vh, lp))
			ls->disco_pending = true;
		msleep(300);
	}
}

/* ---- LLDD callbacks ------------------------------------------------------ */

static int vsas_ls_dev_found(struct domain_device *ddev)
{
	struct vsas_host *vh = ha_vh(ddev->port->ha);
	u64 addr = get_unaligned_be64(ddev->sas_addr);
	struct vsas_dev *dev, *found = NULL;
	unsigned long flags;

	spin_lock_irqsave(&vh->lock, flags);
	list_for_each_entry(dev, &vh->devs, node) {
		if (dev->in_fw && dev->sas_addr == addr) {
			found = dev;
			break;
		}
	}
	if (found) {
		kref_get(&found->kref);
		found->ldev = ddev;
		found->rphy = ddev->rphy;
		found->known = true;
		found->exposed = true;
		ddev->lldd_dev = found;
	}
	spin_unlock_irqrestore(&vh->lock, flags);
	if (!found)
		return addr == vh_ls(vh)->exp_addr ? 0 : -ENODEV;
	vsas_inc(vh, VSAS_C_DEVS_ADDED);
	return 0;
}

static void vsas_ls_dev_gone(struct domain_device *ddev)
{
	struct vsas_host *vh = ha_vh(ddev->port->ha);
	struct vsas_dev *dev = ddev->lldd_dev;
	unsigned long flags;

	if (!dev)
		return;
	vsas_fail_inflight(vh, dev, DID_NO_CONNECT);
	spin_lock_irqsave(&vh->lock, flags);
	if (dev->ldev == ddev) {
		dev->ldev = NULL;
		dev->rphy = NULL;
		dev->known = false;
		dev->exposed = false;
	}
	ddev->lldd_dev = NULL;
	spin_unlock_irqrestore(&vh->lock, flags);
	vsas_inc(vh, VSAS_C_DEVS_REMOVED);
	vsas_dev_put(dev);
}

/* Tell libsas the expander's topology changed (BROADCAST (CHANGE)). */
static void vsas_ls_broadcast(struct vsas_host *vh)
{
	struct vsas_ls *ls = vh_ls(vh);
	struct vsas_lphy *lp = &ls->phys[vh->p.num_phys - 1];

	ls->exp_change_count++;
	if (!ls->has_exp || !READ_ONCE(lp->up) || ls->dying)
		return;
	vsas_ls_event_begin(vh);
	sas_notify_port_event(&lp->sas_phy, PORTE_BROADCAST_RCVD, GFP_KERNEL);
	vsas_ls_event_end(vh);
	vsas_inc(vh, VSAS_C_PHY_EVENTS);
}

/* The expander's SMP target: REPORT GENERAL, MANUFACTURER INFO, DISCOVER. */
static void vsas_ls_smp(struct vsas_host *vh, struct sas_task *task)
{
	struct vsas_ls *ls = vh_ls(vh);
	struct scatterlist *rq = &task->smp_task.smp_req;
	struct scatterlist *rs = &task->smp_task.smp_resp;
	u8 req[16] = { 0 }, resp[128];
	size_t rlen = min_t(size_t, rs->length, sizeof(resp));
	unsigned long flags;

	sg_copy_to_buffer(rq, 1, req, min_t(size_t, rq->length, sizeof(req)));
	memset(resp, 0, sizeof(resp));
	resp[0] = SMP_RESPONSE;
	resp[1] = req[1];
	resp[2] = SMP_RESP_FUNC_ACC;
	switch (req[1]) {
	case SMP_REPORT_GENERAL: {
		struct report_general_resp *rg = (void *)&resp[4];

		put_unaligned_be16(ls->exp_change_count, &rg->change_count);
		rg->num_phys = VSAS_EXP_PHYS;
		break;
	}
	case SMP_REPORT_MANUF_INFO:
		memcpy(&resp[12], "VSAS    ", 8);
		memcpy(&resp[20], "VIRT EXPANDER   ", 16);
		memcpy(&resp[36], "0001", 4);
		break;
	case SMP_DISCOVER: {
		struct discover_resp *dr = (void *)&resp[4];
		unsigned int phy = req[9];
		struct vsas_dev *dev;

		if (phy >= VSAS_EXP_PHYS) {
			resp[2] = 0x10;	/* PHY DOES NOT EXIST */
			break;
		}
		dr->phy_id = phy;
		put_unaligned_be64(ls->exp_addr, dr->sas_addr);
		dr->change_count = ls->exp_phy_cc[phy];
		dr->routing_attr = DIRECT_ROUTING;
		dr->pmin_linkrate = SAS_LINK_RATE_1_5_GBPS;
		dr->pmax_linkrate = SAS_LINK_RATE_12_0_GBPS;
		dr->hmin_linkrate = SAS_LINK_RATE_1_5_GBPS;
		dr->hmax_linkrate = SAS_LINK_RATE_12_0_GBPS;
		spin_lock_irqsave(&vh->lock, flags);
		dev = ls->exp_devs[phy];
		if (dev && dev->in_fw) {
			dr->attached_dev_type = SAS_END_DEVICE;
			dr->linkrate = SAS_LINK_RATE_12_0_GBPS;
			dr->tproto = SAS_PROTOCOL_SSP >> 1;
			put_unaligned_be64(dev->sas_addr, dr->attached_sas_addr);
		} else {
			dr->attached_dev_type = SAS_PHY_UNUSED;
			dr->linkrate = SAS_LINK_RATE_UNKNOWN;
		}
		spin_unlock_irqrestore(&vh->lock, flags);
		break;
	}
	case SMP_PHY_CONTROL:
		/* link/hard reset of an expander PHY: re-announce it */
		if (req[9] < VSAS_EXP_PHYS) {
			vsas_inc(vh, VSAS_C_RESETS);
			vsas_inc(vh, VSAS_C_LINK_RESETS);
			ls->exp_phy_cc[req[9]]++;
			ls->exp_change_count++;
		}
		break;
	default:
		resp[2] = SMP_RESP_FUNC_UNK;
		break;
	}
	sg_copy_from_buffer(rs, 1, resp, rlen);
	task->task_status.resp = SAS_TASK_COMPLETE;
	task->task_status.stat = SAS_SAM_STAT_GOOD;
	spin_lock_irqsave(&task->task_state_lock, flags);
	task->task_state_flags &= ~SAS_TASK_STATE_PENDING;
	task->task_state_flags |= SAS_TASK_STATE_DONE;
	spin_unlock_irqrestore(&task->task_state_lock, flags);
	task->task_done(task);
}

static int vsas_ls_execute_task(struct sas_task *task, gfp_t gfp)
{
	struct vsas_host *vh = ha_vh(task->dev->port->ha);
	struct scsi_cmnd *scmd = task->uldd_task;

	if (task->task_proto == SAS_PROTOCOL_SMP && vh_ls(vh)->has_exp) {
		vsas_ls_smp(vh, task);
		return 0;
	}
	if (task->task_proto != SAS_PROTOCOL_SSP || !scmd)
		return -EOPNOTSUPP;
	return vsas_queue_cmd(vh, scmd, task);
}

/* Completion of an SSP task from the emulation's result in @scmd. */
void vsas_libsas_task_done(struct vsas_cmd *vc, struct scsi_cmnd *scmd,
			   bool phy_down)
{
	struct sas_task *task = vc->task;
	struct task_status_struct *ts = &task->task_status;
	unsigned long flags;
	u32 resid = scsi_get_resid(scmd);

	vc->task = NULL;
	memset(ts, 0, sizeof(*ts));
	ts->resp = SAS_TASK_COMPLETE;
	if (phy_down) {
		ts->stat = SAS_PHY_DOWN;
	} else if (host_byte(scmd->result) == DID_NO_CONNECT) {
		ts->resp = SAS_TASK_UNDELIVERED;
		ts->stat = SAS_DEV_NO_RESPONSE;
	} else if (host_byte(scmd->result) != DID_OK) {
		ts->stat = SAS_QUEUE_FULL;	/* DID_SOFT_ERROR: retried */
	} else if ((scmd->result & 0xff) == SAM_STAT_CHECK_CONDITION) {
		ts->stat = SAS_SAM_STAT_CHECK_CONDITION;
		ts->buf_valid_size = min(SAS_STATUS_BUF_SIZE, SCSI_SENSE_BUFFERSIZE);
		memcpy(ts->buf, scmd->sense_buffer, ts->buf_valid_size);
	} else if (resid) {
		ts->stat = SAS_DATA_UNDERRUN;
		ts->residual = resid;
	} else {
		ts->stat = SAS_SAM_STAT_GOOD;
	}
	spin_lock_irqsave(&task->task_state_lock, flags);
	task->task_state_flags &= ~SAS_TASK_STATE_PENDING;
	task->task_state_flags |= SAS_TASK_STATE_DONE;
	spin_unlock_irqrestore(&task->task_state_lock, flags);
	task->task_done(task);
}

static int vsas_ls_abort_task(struct sas_task *task)
{
	struct vsas_host *vh = ha_vh(task->dev->port->ha);
	struct scsi_cmnd *scmd = task->uldd_task;

	vsas_inc(vh, VSAS_C_TMF);
	vsas_inc(vh, VSAS_C_EH_ABORTS);
	if (scmd)
		vsas_abort_cmd(vh, scmd);
	return TMF_RESP_FUNC_COMPLETE;
}

static int vsas_ls_query_task(struct sas_task *task)
{
	struct vsas_host *vh = ha_vh(task->dev->port->ha);
	struct scsi_cmnd *scmd = task->uldd_task;

	vsas_inc(vh, VSAS_C_TMF);
	if (scmd && READ_ONCE(((struct vsas_cmd *)scsi_cmd_priv(scmd))->queued))
		return TMF_RESP_FUNC_SUCC;
	return TMF_RESP_FUNC_COMPLETE;
}

/* Drop every in-flight command of @ddev without completing it (EH owns them). */
static void vsas_ls_purge(struct vsas_host *vh, struct vsas_dev *only)
{
	struct vsas_cmd *vc;
	unsigned long flags;

	for (;;) {
		struct scsi_cmnd *scmd = NULL;

		spin_lock_irqsave(&vh->lock, flags);
		list_for_each_entry(vc, &vh->inflight, node) {
			if (!only || vc->dev == only) {
				scmd = vc->scmd;
				break;
			}
		}
		spin_unlock_irqrestore(&vh->lock, flags);
		if (!scmd)
			return;
		vsas_abort_cmd(vh, scmd);
	}
}

static int vsas_ls_lu_reset(struct domain_device *ddev, u8 *lun)
{
	struct vsas_host *vh = ha_vh(ddev->port->ha);

	vsas_inc(vh, VSAS_C_TMF);
	vsas_inc(vh, VSAS_C_EH_DEV_RESETS);
	if (ddev->lldd_dev)
		vsas_ls_purge(vh, ddev->lldd_dev);
	return TMF_RESP_FUNC_COMPLETE;
}

static int vsas_ls_task_set(struct domain_device *ddev, u8 *lun)
{
	struct vsas_host *vh = ha_vh(ddev->port->ha);

	vsas_inc(vh, VSAS_C_TMF);
	if (ddev->lldd_dev)
		vsas_ls_purge(vh, ddev->lldd_dev);
	return TMF_RESP_FUNC_COMPLETE;
}

static int vsas_ls_I_T_nexus_reset(struct domain_device *ddev)
{
	struct vsas_host *vh = ha_vh(ddev->port->ha);

	vsas_inc(vh, VSAS_C_TMF);
	vsas_inc(vh, VSAS_C_RESETS);
	vsas_inc(vh, VSAS_C_LINK_RESETS);
	if (ddev->lldd_dev)
		vsas_ls_purge(vh, ddev->lldd_dev);
	return TMF_RESP_FUNC_COMPLETE;
}

static int vsas_ls_clear_nexus_ha(struct sas_ha_struct *sha)
{
	struct vsas_host *vh = ha_vh(sha);

	vsas_inc(vh, VSAS_C_TMF);
	vsas_inc(vh, VSAS_C_RESETS);
	vsas_inc(vh, VSAS_C_FW_RESETS);
	vsas_ls_purge(vh, NULL);
	return TMF_RESP_FUNC_COMPLETE;
}

static int vsas_ls_control_phy(struct asd_sas_phy *sp, enum phy_func func,
			       void *arg)
{
	struct vsas_lphy *lp = sp->lldd_phy;
	struct vsas_host *vh = lp->vh;

	switch (func) {
	case PHY_FUNC_LINK_RESET:
	case PHY_FUNC_HARD_RESET:
		vsas_libsas_phy_cycle(vh, lp->idx, func == PHY_FUNC_HARD_RESET);
		return 0;
	case PHY_FUNC_DISABLE:
		vsas_inc(vh, VSAS_C_PHY_DISABLES);
		vsas_inc(vh, VSAS_C_RESETS);
		cancel_delayed_work_sync(&lp->up_work);
		WRITE_ONCE(lp->enabled, false);
		vsas_ls_link_down(vh, lp);
		return 0;
	case PHY_FUNC_SET_LINK_RATE:
	case PHY_FUNC_RELEASE_SPINUP_HOLD:
	case PHY_FUNC_GET_EVENTS:
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}

static struct sas_domain_function_template vsas_ls_ft = {
	.lldd_dev_found		= vsas_ls_dev_found,
	.lldd_dev_gone		= vsas_ls_dev_gone,
	.lldd_execute_task	= vsas_ls_execute_task,
	.lldd_abort_task	= vsas_ls_abort_task,
	.lldd_abort_task_set	= vsas_ls_task_set,
	.lldd_clear_task_set	= vsas_ls_task_set,
	.lldd_I_T_nexus_reset	= vsas_ls_I_T_nexus_reset,
	.lldd_lu_reset		= vsas_ls_lu_reset,
	.lldd_query_task	= vsas_ls_query_task,
	.lldd_clear_nexus_ha	= vsas_ls_clear_nexus_ha,
	.lldd_control_phy	= vsas_ls_control_phy,
};

/* ---- SCSI host template --------------------------------------------------- */

/*
 * sas_target_alloc() finds the domain device through dev_to_rphy(parent);
 * for a target whose parent is the host that is not an rphy and the real
 * code dereferences NULL. vsas counts it and refuses the target instead.
 */
static int vsas_ls_target_alloc(struct scsi_target *starget)
{
	struct Scsi_Host *shost = dev_to_shost(starget->dev.parent);
	struct vsas_host *vh = shost_to_vh(shost);

	vsas_inc(vh, VSAS_C_TARGET_ALLOCS);
	if (!scsi_is_sas_rphy(starget->dev.parent)) {
		vsas_inc(vh, VSAS_C_TARGET_ALLOCS_NONRPHY);
		vsas_inc(vh, VSAS_C_TARGET_ALLOC_OOPS);
		vsas_inc(vh, VSAS_C_ABSENT_PROBES);
		return -ENXIO;
	}
	return sas_target_alloc(starget);
}

static int vsas_ls_slave_alloc(struct scsi_device *sdev)
{
	vsas_sdev_account(shost_to_vh(sdev->host), sdev);
#ifdef VSAS_HAVE_SAS_SDEV_INIT
	return sas_sdev_init(sdev);
#else
	return sas_slave_alloc(sdev);
#endif
}

/*
 * hisi_sas v3 links a device to the controller, so that the device's
 * runtime resume resumes the controller, which ignores its children;
 * without the link it gives up runtime PM.
 */
static void vsas_ls_link_ctrl(struct vsas_host *vh, struct device *consumer)
{
	if (!device_link_add(consumer, vh->pdev, DL_FLAG_STATELESS |
			     DL_FLAG_PM_RUNTIME | DL_FLAG_RPM_ACTIVE) &&
	    pm_runtime_enabled(vh->pdev)) {
		dev_info(vh->pdev, "add device link failed, disable runtime PM for the host\n");
		pm_runtime_disable(vh->pdev);
	}
}

/* Every disk but an enclosure is linked (sdev_configure_v3_hw()). */
static void vsas_ls_rpm_link(struct scsi_device *sdev)
{
	struct vsas_host *vh = shost_to_vh(sdev->host);

	if (vh->pers->rpm_links && sdev->type != TYPE_ENCLOSURE)
		vsas_ls_link_ctrl(vh, &sdev->sdev_gendev);
}

/*
 * With the fix series, hisi_sas v3 links its host too (the series' hisi_sas
 * patch): a user scan resumes the host, and so the controller, before it
 * probes a device that has no link yet. Without the series it does not, and
 * such a probe waits for as long as the controller stays suspended. The
 * series is recognised by its template member; sasscan-dkms, which ships
 * no hisi_sas, registers its callback instead and is left as Debian's.
 */
static bool vsas_ls_links_host(struct vsas_host *vh)
{
#ifdef VSAS_HAVE_USER_SCAN_DEVICES
	return vh->pers->rpm_links;
#else
	return false;
#endif
}

#if defined(VSAS_HAVE_SAS_SDEV_CONFIGURE)
static int vsas_ls_sdev_configure(struct scsi_device *sdev,
				  struct queue_limits *lim)
{
	int ret = sas_sdev_configure(sdev, lim);
#elif defined(VSAS_HAVE_DEVICE_CONFIGURE)
static int vsas_ls_sdev_configure(struct scsi_device *sdev,
				  struct queue_limits *lim)
{
	int ret = sas_device_configure(sdev, lim);
#else
static int vsas_ls_sdev_configure(struct scsi_device *sdev)
{
	int ret = sas_slave_configure(sdev);
#endif

	if (!ret)
		vsas_ls_rpm_link(sdev);
	return ret;
}

static void vsas_ls_sdev_destroy(struct scsi_device *sdev)
{
	struct vsas_host *vh = shost_to_vh(sdev->host);

	if (vh->pers->rpm_links)
		device_link_remove(&sdev->sdev_gendev, vh->pdev);
}

static int vsas_ls_init_cmd_priv(struct Scsi_Host *shost, struct scsi_cmnd *scmd)
{
	struct vsas_cmd *vc = scsi_cmd_priv(scmd);

	INIT_DELAYED_WORK(&vc->dwork, vsas_cmd_work);
	INIT_LIST_HEAD(&vc->node);
	return 0;
}

void vsas_libsas_fill_sht(struct scsi_host_template *sht,
			  const struct vsas_personality *pers)
{
	memset(sht, 0, sizeof(*sht));
	sht->module = THIS_MODULE;
	sht->name = VSAS_NAME;
	sht->proc_name = pers->proc_name;
	sht->queuecommand = sas_queuecommand;
	sht->target_alloc = vsas_ls_target_alloc;
	sht->change_queue_depth = sas_change_queue_depth;
	sht->bios_param = sas_bios_param;
	sht->this_id = -1;
	sht->eh_device_reset_handler = sas_eh_device_reset_handler;
	sht->eh_target_reset_handler = sas_eh_target_reset_handler;
	sht->target_destroy = sas_target_destroy;
	sht->ioctl = sas_ioctl;
#ifdef VSAS_HAVE_SDEV_INIT
	sht->sdev_init = vsas_ls_slave_alloc;
	sht->sdev_destroy = vsas_ls_sdev_destroy;
#else
	sht->slave_alloc = vsas_ls_slave_alloc;
	sht->slave_destroy = vsas_ls_sdev_destroy;
#endif
#if defined(VSAS_HAVE_SAS_SDEV_CONFIGURE)
	sht->sdev_configure = vsas_ls_sdev_configure;
#elif defined(VSAS_HAVE_DEVICE_CONFIGURE)
	sht->device_configure = vsas_ls_sdev_configure;
#else
	sht->slave_configure = vsas_ls_sdev_configure;
#endif
	sht->scan_start = vsas_hook_scan_start;
	sht->scan_finished = vsas_hook_scan_finished;
	sht->can_queue = 128;
	sht->cmd_per_lun = 16;
	sht->sg_tablesize = SG_ALL;
	sht->max_sectors = 1024;
	sht->cmd_size = sizeof(struct vsas_cmd);
	sht->init_cmd_priv = vsas_ls_init_cmd_priv;
	sht->skip_settle_delay = 1;
}

/* ---- host ----------------------------------------------------------------- */

int vsas_libsas_add(struct vsas_host *vh)
{
	struct Scsi_Host *shost = vh->shost;
	struct sas_ha_struct *sha;
	struct vsas_dev *dev;
	unsigned long flags;
	struct vsas_ls *ls;
	unsigned int i;
	int ret;

	ls = kzalloc(sizeof(*ls), GFP_KERNEL);
	if (!ls)
		return -ENOMEM;
	vh->lsas = ls;
	sha = &ls->sha;
	put_unaligned_be64(0x5000c0de00000000ULL | ((u64)(vh->idx & 0xffff) << 16),
			   ls->sas_addr);
	for (i = 0; i < vh->p.num_phys; i++) {
		struct vsas_lphy *lp = &ls->phys[i];
		struct asd_sas_phy *sp = &lp->sas_phy;

		lp->vh = vh;
		lp->idx = i;
		lp->enabled = false;	/* the driver enables PHYs in scan_start */
		INIT_DELAYED_WORK(&lp->up_work, vsas_ls_up_work);
		sp->enabled = 1;
		sp->id = i;
		sp->sas_addr = ls->sas_addr;
		sp->frame_rcvd = lp->frame;
		sp->ha = sha;
		sp->iproto = SAS_PROTOCOL_SSP;
		sp->tproto = 0;
		sp->role = PHY_ROLE_INITIATOR;
		sp->oob_mode = OOB_NOT_CONNECTED;
		sp->linkrate = SAS_LINK_RATE_UNKNOWN;
		sp->lldd_phy = lp;
		ls->phy_arr[i] = sp;
		ls->port_arr[i] = &lp->sas_port;
	}
	/* an edge expander on the last PHY if the topology has devices behind one */
	ls->exp_addr = 0x5000c0de0000fe00ULL | ((u64)(vh->idx & 0xffff) << 16);
	spin_lock_irqsave(&vh->lock, flags);
	list_for_each_entry(dev, &vh->devs, node)
		if (dev->expander)
			ls->has_exp = true;
	spin_unlock_irqrestore(&vh->lock, flags);
	if (ls->has_exp)
		ls->phys[vh->p.num_phys - 1].is_exp = true;
	/* mvsas brings its PHYs up at probe; its scan_start re-announces */
	if (!strcmp(vh->pers->name, "mvsas"))
		for (i = 0; i < vh->p.num_phys; i++)
			ls->phys[i].enabled = true;

	sha->sas_ha_name = vh->name;
	sha->dev = vh->pdev;
	sha->sas_addr = ls->sas_addr;
	sha->sas_phy = ls->phy_arr;
	sha->sas_port = ls->port_arr;
	sha->num_phys = vh->p.num_phys;
	sha->lldd_ha = vh;
	sha->shost = shost;
	((void **)shost_priv(shost))[0] = sha;	/* SHOST_TO_SAS_HA() */

	shost->transportt = vsas_ls_tt;
	ret = scsi_add_host(shost, vh->pdev);
	if (ret)
		goto err_free;
	if (vsas_ls_links_host(vh))
		vsas_ls_link_ctrl(vh, &shost->shost_gendev);
	ret = sas_register_ha(sha);
	if (ret)
		goto err_host;
	vsas_ls_attach_all(vh);
	return 0;

err_host:
	if (vsas_ls_links_host(vh))
		device_link_remove(&shost->shost_gendev, vh->pdev);
	scsi_remove_host(shost);
err_free:
	vh->lsas = NULL;
	kfree(ls);
	return ret;
}

void vsas_libsas_remove(struct vsas_host *vh)
{
	struct vsas_ls *ls = vh_ls(vh);
	unsigned long flags;
	unsigned int i;

	spin_lock_irqsave(&vh->lock, flags);
	ls->dying = true;
	spin_unlock_irqrestore(&vh->lock, flags);
	for (i = 0; i < vh->p.num_phys; i++)
		cancel_delayed_work_sync(&ls->phys[i].up_work);
	sas_unregister_ha(&ls->sha);
	if (vsas_ls_links_host(vh))
		device_link_remove(&vh->shost->shost_gendev, vh->pdev);
	sas_remove_host(vh->shost);
	for (i = 0; i < vh->p.num_phys; i++) {
		struct vsas_dev *dev;

		spin_lock_irqsave(&vh->lock, flags);
		dev = ls->phys[i].dev;
		ls->phys[i].dev = NULL;
		spin_unlock_irqrestore(&vh->lock, flags);
		if (dev)
			vsas_dev_put(dev);
	}
	for (i = 0; i < VSAS_EXP_PHYS; i++) {
		struct vsas_dev *dev;

		spin_lock_irqsave(&vh->lock, flags);
		dev = ls->exp_devs[i];
		ls->exp_devs[i] = NULL;
		spin_unlock_irqrestore(&vh->lock, flags);
		if (dev)
			vsas_dev_put(dev);
	}
	vh->lsas = NULL;
	kfree(ls);
}

int vsas_libsas_init(void)
{
	vsas_ls_tt = sas_domain_attach_transport(&vsas_ls_ft);
	return vsas_ls_tt ? 0 : -ENOMEM;
}

void vsas_libsas_exit(void)
{
	sas_release_transport(vsas_ls_tt);
}
