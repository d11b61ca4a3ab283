// SPDX-License-Identifier: GPL-2.0
/*
 * vsas: SCSI target emulation.
 *
 * Enough of SPC/SBC for sd and data-integrity tests: INQUIRY (standard and
 * VPD 0x00/0x80/0x83), REPORT LUNS, TEST UNIT READY, READ CAPACITY 10/16,
 * MODE SENSE 6/10, REQUEST SENSE, READ/WRITE 6/10/16, SYNCHRONIZE CACHE
 * 10/16. Everything else gets ILLEGAL REQUEST. Data lives in a sparse store:
 * an xarray of pages per logical unit, allocated on first write.
 */
#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/pm_runtime.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>
#ifdef VSAS_HAVE_LINUX_UNALIGNED
#include <linux/unaligned.h>
#else
#include <asm/unaligned.h>
#endif
#include <scsi/scsi.h>
#include <scsi/scsi_cmnd.h>
#include <scsi/scsi_common.h>
#include <scsi/scsi_device.h>
#include <scsi/scsi_proto.h>

#include "vsas.h"

#define VSAS_SENSE_NONE		0x00
#define ASC_INVALID_OPCODE	0x20
#define ASC_LBA_OUT_OF_RANGE	0x21
#define ASC_INVALID_FIELD_CDB	0x24
#define ASC_LUN_NOT_SUPPORTED	0x25
#define ASC_WRITE_ERROR		0x0c

int vsas_lu_init(struct vsas_lu *lu, u64 nblocks)
{
	xa_init(&lu->pages);
	lu->nblocks = nblocks;
	return 0;
}

void vsas_lu_free(struct vsas_lu *lu)
{
	struct page *page;
	unsigned long idx;

	xa_for_each(&lu->pages, idx, page)
		__free_page(page);
	xa_destroy(&lu->pages);
}

static void vsas_sense(struct scsi_cmnd *scmd, u8 key, u8 asc, u8 ascq)
{
	scsi_build_sense(scmd, 0, key, asc, ascq);
}

static void vsas_invalid_cdb(struct scsi_cmnd *scmd)
{
	vsas_sense(scmd, ILLEGAL_REQUEST, ASC_INVALID_FIELD_CDB, 0);
}

/* Copy a response into the data buffer, truncated to the allocation length. */
static void vsas_respond(struct scsi_cmnd *scmd, const void *buf, u32 len,
			 u32 alloc_len)
{
	u32 n = min(len, alloc_len);
	u32 bufflen = scsi_bufflen(scmd);
	int copied;

	n = min(n, bufflen);
	copied = scsi_sg_copy_from_buffer(scmd, buf, n);
	scsi_set_resid(scmd, bufflen - (copied > 0 ? copied : 0));
}

static void vsas_inquiry(struct vsas_host *vh, struct vsas_dev *dev,
			 unsigned int lun, struct scsi_cmnd *scmd)
{
	const u8 *cdb = scmd->cmnd;
	u32 alloc_len = get_unaligned_be16(&cdb[3]);
	bool present = lun < dev->nluns;
	u8 buf[96];
	u64 naa;
	int n;

	memset(buf, 0, sizeof(buf));
	if (!(cdb[1] & 1)) {
		if (cdb[2]) {
			vsas_invalid_cdb(scmd);
			return;
		}
		/* PQ 3 / type 0x1f: no logical unit here */
		buf[0] = present ? dev->type : 0x7f;
		buf[2] = 6;		/* SPC-4 */
		buf[3] = 2;		/* response data format */
		buf[4] = 36 - 5;
		buf[7] = 0x02;		/* CMDQUE */
		memcpy(&buf[8], dev->vendor, 8);
		memcpy(&buf[16], dev->model, 16);
		memcpy(&buf[32], "0001", 4);
		vsas_respond(scmd, buf, 36, alloc_len);
		return;
	}
	if (!present) {
		vsas_sense(scmd, ILLEGAL_REQUEST, ASC_LUN_NOT_SUPPORTED, 0);
		return;
	}
	buf[0] = dev->type;
	buf[1] = cdb[2];
	switch (cdb[2]) {
	case 0x00:		/* supported pages */
		buf[3] = 3;
		buf[4] = 0x00;
		buf[5] = 0x80;
		buf[6] = 0x83;
		n = 7;
		break;
	case 0x80:		/* unit serial number */
		n = snprintf(&buf[4], sizeof(buf) - 4, "VSAS%04X%04X%04X",
			     vh->idx, dev->index, lun);
		buf[3] = n;
		n += 4;
		break;
	case 0x83:		/* device identification */
		/* NAA 6 (IEEE registered extended), 16 bytes, LU association */
		buf[4] = 0x01;	/* code set binary */
		buf[5] = 0x03;	/* LU, NAA */
		buf[7] = 16;
		naa = 0x6000c0de00000000ULL | ((u64)(vh->idx & 0xffff) << 16) |
		      (dev->index & 0xffff);
		put_unaligned_be64(naa, &buf[8]);
		put_unaligned_be64(lun, &buf[16]);
		/* target port: SAS address, protocol SAS, NAA */
		buf[24] = 0x61;	/* protocol 6 (SAS), PIV, binary */
		buf[25] = 0x93;	/* PIV, target port association, NAA */
		buf[27] = 8;
		put_unaligned_be64(dev->sas_addr, &buf[28]);
		n = 36;
		put_unaligned_be16(n - 4, &buf[2]);
		break;
	default:
		vsas_invalid_cdb(scmd);
		return;
	}
	vsas_respond(scmd, buf, n, alloc_len);
}

static int vsas_cmp_uint(const void *a, const void *b)
{
	unsigned int x = *(const unsigned int *)a, y = *(const unsigned int *)b;

	return x < y ? -1 : x > y;
}

/*
 * REPORT LUNS. What RAID firmware answers when it is sent to a volume is
 * not in the drivers' source (docs/vsas.md), so the host's report_luns
 * chooses: every LUN of every volume the firmware has on the target
 * ("all"), the volume's own LUNs ("self"), or ILLEGAL REQUEST, invalid
 * operation code ("none"). A target that is one device answers its LUNs.
 */
static void vsas_report_luns(struct vsas_host *vh, struct vsas_dev *dev,
			     struct scsi_cmnd *scmd)
{
	enum vsas_report_luns mode = READ_ONCE(vh->report_luns);
	u32 alloc_len = get_unaligned_be32(&scmd->cmnd[6]);
	unsigned int i, n = 0, *luns;
	struct vsas_dev *d;
	unsigned long flags;
	u32 len;
	u8 *buf;

	if (mode == VSAS_RL_NONE) {
		vsas_inc(vh, VSAS_C_REPORT_LUNS_REFUSED);
		vsas_sense(scmd, ILLEGAL_REQUEST, ASC_INVALID_OPCODE, 0);
		return;
	}
	if (alloc_len < 16) {
		vsas_invalid_cdb(scmd);
		return;
	}
	buf = kzalloc(8 + 8 * VSAS_REPORT_LUNS_MAX, GFP_NOIO);
	luns = kcalloc(VSAS_REPORT_LUNS_MAX, sizeof(*luns), GFP_NOIO);
	if (!buf || !luns) {
		kfree(buf);
		kfree(luns);
		set_host_byte(scmd, DID_REQUEUE);
		return;
	}
	spin_lock_irqsave(&vh->lock, flags);
	list_for_each_entry(d, &vh->devs, node) {
		if (d != dev && (mode != VSAS_RL_ALL || !vsas_dev_volumes(vh, dev) ||
				 d->channel != dev->channel || d->bus0 != dev->bus0 ||
				 d->id != dev->id ||
				 !d->in_fw))
			continue;
		for (i = 0; i < d->nluns && n < VSAS_REPORT_LUNS_MAX; i++)
			luns[n++] = d->lun + i;
	}
	spin_unlock_irqrestore(&vh->lock, flags);
	sort(luns, n, sizeof(*luns), vsas_cmp_uint, NULL);	/* ascending */
	for (i = 0; i < n; i++)
		int_to_scsilun(luns[i], (struct scsi_lun *)&buf[8 + 8 * i]);
	kfree(luns);
	len = 8 + 8 * n;
	put_unaligned_be32(8 * n, buf);
	vsas_respond(scmd, buf, len, alloc_len);
	kfree(buf);
}

static void vsas_read_capacity(struct vsas_lu *lu, struct scsi_cmnd *scmd,
			       bool sixteen)
{
	u64 last = lu->nblocks - 1;
	u8 buf[32];

	memset(buf, 0, sizeof(buf));
	if (!sixteen) {
		put_unaligned_be32(last > 0xfffffffe ? 0xffffffff : last, buf);
		put_unaligned_be32(VSAS_BLOCK_SIZE, &buf[4]);
		vsas_respond(scmd, buf, 8, 8);
		return;
	}
	put_unaligned_be64(last, buf);
	put_unaligned_be32(VSAS_BLOCK_SIZE, &buf[8]);
	vsas_respond(scmd, buf, 32, get_unaligned_be32(&scmd->cmnd[10]));
}

/* Mode pages: caching (0x08) and control (0x0a). Returns bytes or -1. */
static int vsas_mode_page(u8 page, u8 pc, u8 *p)
{
	bool changeable = pc == 1;

	switch (page) {
	case 0x08:
		memset(p, 0, 20);
		p[0] = 0x08;
		p[1] = 18;
		if (!changeable)
			p[2] = 0x04;	/* WCE */
		return 20;
	case 0x0a:
		memset(p, 0, 12);
		p[0] = 0x0a;
		p[1] = 10;
		return 12;
	}
	return -1;
}

static void vsas_mode_sense(struct scsi_cmnd *scmd, bool ten)
{
	const u8 *cdb = scmd->cmnd;
	u8 page = cdb[2] & 0x3f, pc = cdb[2] >> 6;
	u32 alloc_len = ten ? get_unaligned_be16(&cdb[7]) : cdb[4];
	int hdr = ten ? 8 : 4, off = hdr, n;
	u8 buf[64];

	memset(buf, 0, sizeof(buf));
	if (pc == 3) {
		vsas_sense(scmd, ILLEGAL_REQUEST, 0x39, 0); /* saving not supp. */
		return;
	}
	if (page == 0x3f) {
		off += vsas_mode_page(0x08, pc, &buf[off]);
		off += vsas_mode_page(0x0a, pc, &buf[off]);
	} else {
		n = vsas_mode_page(page, pc, &buf[off]);
		if (n < 0) {
			vsas_invalid_cdb(scmd);
			return;
		}
		off += n;
	}
	if (ten)
		put_unaligned_be16(off - 2, buf);
	else
		buf[0] = off - 1;
	vsas_respond(scmd, buf, off, alloc_len);
}

static void vsas_request_sense(struct scsi_cmnd *scmd)
{
	u8 buf[18];

	memset(buf, 0, sizeof(buf));
	buf[0] = 0x70;
	buf[7] = 10;
	vsas_respond(scmd, buf, sizeof(buf), scmd->cmnd[4]);
}

static struct page *vsas_store_page(struct vsas_lu *lu, unsigned long idx,
				    bool alloc)
{
	struct page *page = xa_load(&lu->pages, idx), *old;

	if (page || !alloc)
		return page;
	page = alloc_page(GFP_NOIO | __GFP_ZERO);
	if (!page)
		return NULL;
	old = xa_cmpxchg(&lu->pages, idx, NULL, page, GFP_NOIO);
	if (xa_is_err(old)) {
		__free_page(page);
		return NULL;
	}
	if (old) {
		__free_page(page);
		return old;
	}
	return page;
}

static void vsas_rw(struct vsas_lu *lu, struct scsi_cmnd *scmd, u64 lba,
		    u32 nblocks, bool write)
{
	struct scatterlist *sgl = scsi_sglist(scmd);
	unsigned int nents = scsi_sg_count(scmd);
	u64 bytes = (u64)nblocks * VSAS_BLOCK_SIZE;
	u64 pos = lba * VSAS_BLOCK_SIZE;
	size_t done = 0;

	if (lba >= lu->nblocks || nblocks > lu->nblocks - lba) {
		vsas_sense(scmd, ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, 0);
		return;
	}
	if (bytes > scsi_bufflen(scmd))
		bytes = scsi_bufflen(scmd);
	while (done < bytes) {
		unsigned long idx = pos >> PAGE_SHIFT;
		size_t off = offset_in_page(pos);
		size_t n = min_t(u64, PAGE_SIZE - off, bytes - done);
		struct page *page = vsas_store_page(lu, idx, write);
		void *addr;

		if (write) {
			if (!page) {
				vsas_sense(scmd, MEDIUM_ERROR, ASC_WRITE_ERROR, 2);
				return;
			}
			addr = kmap_local_page(page);
			sg_pcopy_to_buffer(sgl, nents, addr + off, n, done);
			kunmap_local(addr);
		} else if (page) {
			addr = kmap_local_page(page);
			sg_pcopy_from_buffer(sgl, nents, addr + off, n, done);
			kunmap_local(addr);
		} else {
			sg_pcopy_from_buffer(sgl, nents, vsas_zero_buf, n, done);
		}
		done += n;
		pos += n;
	}
	scsi_set_resid(scmd, scsi_bufflen(scmd) - done);
}

/*
 * Execute @scmd against LU @lun of @dev. Sets scmd->result, sense and
 * residual; the caller completes the command.
 */
void vsas_execute(struct vsas_host *vh, struct vsas_dev *dev, unsigned int lun,
		  struct scsi_cmnd *scmd)
{
	const u8 *cdb = scmd->cmnd;
	struct vsas_lu *lu = lun < dev->nluns ? &dev->lus[lun] : NULL;

	scmd->result = 0;
	switch (cdb[0]) {
	case INQUIRY:
		vsas_inquiry(vh, dev, lun, scmd);
		return;
	case REPORT_LUNS:
		vsas_report_luns(vh, dev, scmd);
		return;
	case REQUEST_SENSE:
		vsas_request_sense(scmd);
		return;
	}
	if (!lu) {
		vsas_sense(scmd, ILLEGAL_REQUEST, ASC_LUN_NOT_SUPPORTED, 0);
		return;
	}
	switch (cdb[0]) {
	case TEST_UNIT_READY:
	case SYNCHRONIZE_CACHE:
	case SYNCHRONIZE_CACHE_16:
		break;
	case READ_CAPACITY:
		vsas_read_capacity(lu, scmd, false);
		break;
	case SERVICE_ACTION_IN_16:
		if ((cdb[1] & 0x1f) == SAI_READ_CAPACITY_16)
			vsas_read_capacity(lu, scmd, true);
		else
			vsas_invalid_cdb(scmd);
		break;
	case MODE_SENSE:
		vsas_mode_sense(scmd, false);
		break;
	case MODE_SENSE_10:
		vsas_mode_sense(scmd, true);
		break;
	case READ_6:
	case WRITE_6:
		vsas_rw(lu, scmd, get_unaligned_be24(&cdb[1]) & 0x1fffff,
			cdb[4] ? cdb[4] : 256, cdb[0] == WRITE_6);
		break;
	case READ_10:
	case WRITE_10:
		vsas_rw(lu, scmd, get_unaligned_be32(&cdb[2]),
			get_unaligned_be16(&cdb[7]), cdb[0] == WRITE_10);
		break;
	case READ_16:
	case WRITE_16:
		vsas_rw(lu, scmd, get_unaligned_be64(&cdb[2]),
			get_unaligned_be32(&cdb[10]), cdb[0] == WRITE_16);
		break;
	default:
		vsas_sense(scmd, ILLEGAL_REQUEST, ASC_INVALID_OPCODE, 0);
		break;
	}
}

/* ---- queueing, completion, reset ---------------------------------------- */

static void vsas_complete(struct vsas_cmd *vc, struct scsi_cmnd *scmd,
			  bool reset)
{
	if (vc->task)
		vsas_libsas_task_done(vc, scmd, reset);
	else
		scsi_done(scmd);
}

void vsas_cmd_work(struct work_struct *work)
{
	struct vsas_cmd *vc = container_of(to_delayed_work(work),
					   struct vsas_cmd, dwork);
	struct vsas_host *vh = vc->vh;
	struct scsi_cmnd *scmd = vc->scmd;
	struct vsas_dev *dev;
	unsigned long flags;

	spin_lock_irqsave(&vh->lock, flags);
	if (!vc->queued) {	/* failed by a reset or aborted meanwhile */
		spin_unlock_irqrestore(&vh->lock, flags);
		return;
	}
	list_del_init(&vc->node);
	vc->queued = false;
	vh->inflight_now--;
	dev = vc->dev;
	vc->dev = NULL;
	spin_unlock_irqrestore(&vh->lock, flags);

	if (dev && vsas_dev_usable(dev)) {
		vsas_execute(vh, dev, vc->lun, scmd);
	} else {
		scmd->result = 0;
		set_host_byte(scmd, DID_NO_CONNECT);
	}
	if (dev)
		vsas_dev_put(dev);
	vsas_complete(vc, scmd, false);
}

/*
 * Queue @scmd for execution on the host's emulated firmware. The device is
 * looked up now, as the driver would look up its per-device handle; a
 * missing one is answered with DID_NO_CONNECT after absent_delay_ms.
 */
int vsas_queue_cmd(struct vsas_host *vh, struct scsi_cmnd *scmd, void *task)
{
	struct vsas_cmd *vc = scsi_cmd_priv(scmd);
	struct scsi_device *sdev = scmd->device;
	struct vsas_dev *dev;
	unsigned long flags, delay;
	unsigned int idx;

	vsas_inc(vh, VSAS_C_CMDS);
	atomic64_inc(&vh->opc[scmd->cmnd[0]]);
	if (pm_runtime_suspended(vh->pdev)) {
		vsas_inc(vh, VSAS_C_CMDS_WHILE_SUSPENDED);
		pm_request_resume(vh->pdev);
	}

	dev = vsas_dev_lookup_lun(vh, scsi_target(sdev), sdev->lun, &idx);
	if (dev && !vsas_dev_usable(dev)) {
		vsas_dev_put(dev);
		dev = NULL;
	}
	if (!dev)
		vsas_inc(vh, VSAS_C_ABSENT_CMDS);

	vc->scmd = scmd;
	vc->vh = vh;
	vc->dev = dev;
	vc->task = task;
	vc->lun = idx;		/* LU index within the device */
	delay = msecs_to_jiffies(dev ? vh->p.io_delay_ms : vh->p.absent_delay_ms);

	spin_lock_irqsave(&vh->lock, flags);
	list_add_tail(&vc->node, &vh->inflight);
	vc->queued = true;
	vh->inflight_now++;
	vsas_max(vh, VSAS_C_INFLIGHT_MAX, vh->inflight_now);
	spin_unlock_irqrestore(&vh->lock, flags);

	queue_delayed_work(vsas_io_wq, &vc->dwork, delay);
	return 0;
}

/* Take @vc off the in-flight list if it is there; true if it was. */
static bool vsas_unqueue(struct vsas_host *vh, struct vsas_cmd *vc)
{
	unsigned long flags;
	bool was;

	spin_lock_irqsave(&vh->lock, flags);
	was = vc->queued;
	if (was) {
		list_del_init(&vc->node);
		vc->queued = false;
		vh->inflight_now--;
	}
	spin_unlock_irqrestore(&vh->lock, flags);
	return was;
}

/* EH abort: forget the command without completing it. 1 if it was queued. */
int vsas_abort_cmd(struct vsas_host *vh, struct scsi_cmnd *scmd)
{
	struct vsas_cmd *vc = scsi_cmd_priv(scmd);
	struct vsas_dev *dev;
	bool was;

	mutex_lock(&vh->eh_lock);
	was = vsas_unqueue(vh, vc);
	cancel_delayed_work_sync(&vc->dwork);
	if (was) {
		dev = vc->dev;
		vc->dev = NULL;
		if (dev)
			vsas_dev_put(dev);
	}
	mutex_unlock(&vh->eh_lock);
	return was;
}

/*
 * A reset of the emulated controller or of a link: every in-flight command
 * (of @only, or all) completes with @host_byte, as the drivers do on a reset.
 */
void vsas_fail_inflight(struct vsas_host *vh, struct vsas_dev *only,
			int host_byte)
{
	struct vsas_cmd *vc, *tmp;
	LIST_HEAD(victims);
	unsigned long flags;

	mutex_lock(&vh->eh_lock);
	spin_lock_irqsave(&vh->lock, flags);
	list_for_each_entry_safe(vc, tmp, &vh->inflight, node) {
		if (only && vc->dev != only)
			continue;
		list_move_tail(&vc->node, &victims);
		vc->queued = false;
		vh->inflight_now--;
	}
	spin_unlock_irqrestore(&vh->lock, flags);

	list_for_each_entry_safe(vc, tmp, &victims, node) {
		struct scsi_cmnd *scmd = vc->scmd;
		struct vsas_dev *dev = vc->dev;

		list_del_init(&vc->node);
		cancel_delayed_work_sync(&vc->dwork);
		vc->dev = NULL;
		if (dev)
			vsas_dev_put(dev);
		vsas_inc(vh, VSAS_C_IO_FAILED_BY_RESET);
		scmd->result = 0;
		set_host_byte(scmd, host_byte);
		vsas_complete(vc, scmd, true);
	}
	mutex_unlock(&vh->eh_lock);
}
