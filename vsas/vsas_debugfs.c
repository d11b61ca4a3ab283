// SPDX-License-Identifier: GPL-2.0
/*
 * vsas: per-host instrumentation in debugfs.
 *
 * /sys/kernel/debug/vsas/host<N>/counters   "name value" per line; writing
 *                                           "0" or "reset" zeroes counters
 * /sys/kernel/debug/vsas/host<N>/state      personality and scan state
 * /sys/kernel/debug/vsas/host<N>/isci_escape  1: a wedged isci scan ends
 * /sys/kernel/debug/vsas/host<N>/call_scan  "start [locked] [nopm]
 *                                           [timeout=MS]": run the host's
 *                                           scan_start, poll scan_finished
 * /sys/kernel/debug/vsas/host<N>/scan_generic "C I L [limit=N]": the generic
 *                                           scan of scsi_scan_host_selected()
 *                                           with the host as parent
 * /sys/kernel/debug/vsas/host<N>/scan_devices "C I L": the fixed
 *                                           sas_user_scan()'s scan of what
 *                                           ->user_scan_devices() reports
 *                                           (emulated on any kernel)
 */
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/fs.h>
#include <linux/pm_runtime.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/uaccess.h>
#include <scsi/scsi.h>

#include "vsas.h"

static struct dentry *vsas_dbg_root;

static int vsas_counters_show(struct seq_file *m, void *v)
{
	struct vsas_host *vh = m->private;
	unsigned int i;

	seq_printf(m, "inflight %u\n", READ_ONCE(vh->inflight_now));
	seq_printf(m, "scans_active %d\n", atomic_read(&vh->scans_active_now));
	for (i = 0; i < VSAS_C_NR; i++)
		seq_printf(m, "%s %lld\n", vsas_counter_names[i],
			   (long long)atomic64_read(&vh->ctr[i]));
	for (i = 0; i < ARRAY_SIZE(vh->opc); i++) {
		s64 n = atomic64_read(&vh->opc[i]);

		if (n)
			seq_printf(m, "opcode_0x%02x %lld\n", i, (long long)n);
	}
	return 0;
}

static int vsas_counters_open(struct inode *inode, struct file *file)
{
	return single_open(file, vsas_counters_show, inode->i_private);
}

static ssize_t vsas_counters_write(struct file *file, const char __user *ubuf,
				   size_t count, loff_t *ppos)
{
	struct vsas_host *vh = file_inode(file)->i_private;
	char buf[16];
	size_t n = min(count, sizeof(buf) - 1);
	unsigned int i;

	if (copy_from_user(buf, ubuf, n))
		return -EFAULT;
	buf[n] = '\0';
	if (!sysfs_streq(buf, "0") && !sysfs_streq(buf, "reset"))
		return -EINVAL;
	for (i = 0; i < VSAS_C_NR; i++)
		atomic64_set(&vh->ctr[i], 0);
	for (i = 0; i < ARRAY_SIZE(vh->opc); i++)
		atomic64_set(&vh->opc[i], 0);
	/* maxima restart from the current level */
	atomic64_set(&vh->ctr[VSAS_C_INFLIGHT_MAX], READ_ONCE(vh->inflight_now));
	atomic64_set(&vh->ctr[VSAS_C_SCANS_ACTIVE_MAX],
		     atomic_read(&vh->scans_active_now));
	return count;
}

static const struct file_operations vsas_counters_fops = {
	.owner = THIS_MODULE,
	.open = vsas_counters_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = single_release,
	.write = vsas_counters_write,
};

static int vsas_state_show(struct seq_file *m, void *v)
{
	struct vsas_host *vh = m->private;

	seq_printf(m, "name %s\n", vh->name);
	seq_printf(m, "personality %s\n", vh->pers->name);
	seq_printf(m, "host_no %u\n", vh->shost->host_no);
	seq_printf(m, "max_channel %u\n", vh->shost->max_channel);
	seq_printf(m, "max_id %u\n", vh->shost->max_id);
	seq_printf(m, "max_lun %llu\n", (unsigned long long)vh->shost->max_lun);
	seq_printf(m, "report_luns %s\n", vsas_report_luns_names[READ_ONCE(vh->report_luns)]);
	seq_printf(m, "driver_state %s\n", vsas_drv_state_names[READ_ONCE(vh->drv_state)]);
	seq_printf(m, "drv_scan_mutex_locked %d\n", mutex_is_locked(&vh->drv_scan_mutex));
	seq_printf(m, "hpsa_scan_finished %d\n", READ_ONCE(vh->scan_finished_flag));
	seq_printf(m, "start_scan %d\n", READ_ONCE(vh->start_scan));
	seq_printf(m, "port_enable_pending %d\n", READ_ONCE(vh->port_enable_pending));
	seq_printf(m, "isci_start_pending %d\n", READ_ONCE(vh->isci_start_pending));
	seq_printf(m, "isci_escape %d\n", READ_ONCE(vh->isci_escape));
	seq_printf(m, "mvsas_scan_finished %d\n", READ_ONCE(vh->mvsas_flag));
	seq_printf(m, "runtime_status %s\n",
		   pm_runtime_suspended(vh->pdev) ? "suspended" : "active");
	return 0;
}

static int vsas_state_open(struct inode *inode, struct file *file)
{
	return single_open(file, vsas_state_show, inode->i_private);
}

static const struct file_operations vsas_state_fops = {
	.owner = THIS_MODULE,
	.open = vsas_state_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = single_release,
};

/*
 * Call the host's scan_start/scan_finished the way do_scsi_scan_host() does
 * (poll every 10 ms), optionally with the midlayer's scan_mutex held, as a
 * user_scan that calls the driver's hooks would. Bounded by a timeout.
 */
static int vsas_call_scan(struct vsas_host *vh, bool locked, bool pm,
			  unsigned int timeout_ms)
{
	struct Scsi_Host *shost = vh->shost;
	const struct scsi_host_template *sht = shost->hostt;
	unsigned long start = jiffies;
	int ret = 0;

	if (!sht->scan_start || !sht->scan_finished)
		return -EOPNOTSUPP;
	if (pm) {
		ret = pm_runtime_resume_and_get(&shost->shost_gendev);
		if (ret < 0)
			return ret;
	}
	if (locked)
		mutex_lock(&shost->scan_mutex);
	sht->scan_start(shost);
	while (!sht->scan_finished(shost, jiffies - start)) {
		if (time_after(jiffies, start + msecs_to_jiffies(timeout_ms))) {
			ret = -ETIMEDOUT;
			break;
		}
		usleep_range(10000, 11000);
	}
	if (locked)
		mutex_unlock(&shost->scan_mutex);
	if (pm)
		pm_runtime_put(&shost->shost_gendev);
	return ret;
}

static ssize_t vsas_call_scan_write(struct file *file, const char __user *ubuf,
				    size_t count, loff_t *ppos)
{
	struct vsas_host *vh = file_inode(file)->i_private;
	unsigned int timeout_ms = 60000;
	bool locked = false, pm = true;
	char buf[64], *p = buf, *tok;
	size_t n = min(count, sizeof(buf) - 1);
	int ret;

	if (copy_from_user(buf, ubuf, n))
		return -EFAULT;
	buf[n] = '\0';
	tok = strsep(&p, " \t\n");
	if (!tok || strcmp(tok, "start"))
		return -EINVAL;
	while ((tok = strsep(&p, " \t\n"))) {
		if (!*tok)
			continue;
		if (!strcmp(tok, "locked"))
			locked = true;
		else if (!strcmp(tok, "nopm"))
			pm = false;
		else if (!strncmp(tok, "timeout=", 8) &&
			 !kstrtouint(tok + 8, 0, &timeout_ms))
			continue;
		else
			return -EINVAL;
	}
	ret = vsas_call_scan(vh, locked, pm, timeout_ms);
	return ret ? ret : count;
}

static const struct file_operations vsas_call_scan_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = vsas_call_scan_write,
	.llseek = noop_llseek,
};

static int vsas_parse_wild(const char *s, u64 *v)
{
	if (!strcmp(s, "-")) {
		*v = SCAN_WILD_CARD;
		return 0;
	}
	return kstrtou64(s, 0, v);
}

/*
 * What scsi_scan_host_selected() does for a host without user_scan: loop
 * channels 0..max_channel (or one), ids 0..max_id-1 (or one) and scan each
 * target with the host as parent. @limit bounds the number of targets
 * (smartpqi's max_id is 2^32-1). Returns the number of targets scanned.
 */
static long vsas_scan_generic(struct vsas_host *vh, u64 ch, u64 id, u64 lun,
			      u64 limit)
{
	struct Scsi_Host *shost = vh->shost;
	unsigned int c, c0, c1, i, i0, i1;
	long n = 0;

	if ((ch != SCAN_WILD_CARD && ch > shost->max_channel) ||
	    (id != SCAN_WILD_CARD && id >= shost->max_id) ||
	    (lun != SCAN_WILD_CARD && lun >= shost->max_lun))
		return -EINVAL;
	c0 = ch == SCAN_WILD_CARD ? 0 : ch;
	c1 = ch == SCAN_WILD_CARD ? shost->max_channel : ch;
	i0 = id == SCAN_WILD_CARD ? 0 : id;
	i1 = id == SCAN_WILD_CARD ? shost->max_id - 1 : id;
	for (c = c0; c <= c1; c++) {
		for (i = i0; i <= i1 && n < limit; i++) {
			if (shost->this_id >= 0 && i == shost->this_id)
				continue;
			scsi_scan_target(&shost->shost_gendev, c, i, lun,
					 SCSI_SCAN_MANUAL);
			n++;
			cond_resched();
			if (i == UINT_MAX)
				break;
		}
	}
	return n;
}

static ssize_t vsas_scan_generic_write(struct file *file,
				       const char __user *ubuf, size_t count,
				       loff_t *ppos)
{
	struct vsas_host *vh = file_inode(file)->i_private;
	char buf[96], *p = buf, *tok[4] = { NULL };
	size_t n = min(count, sizeof(buf) - 1);
	u64 ch, id, lun, limit = 65536;
	unsigned int i = 0;
	long ret;

	if (copy_from_user(buf, ubuf, n))
		return -EFAULT;
	buf[n] = '\0';
	while (i < 4 && (tok[i] = strsep(&p, " \t\n")))
		if (*tok[i])
			i++;
	if (i < 3 || vsas_parse_wild(tok[0], &ch) || vsas_parse_wild(tok[1], &id) ||
	    vsas_parse_wild(tok[2], &lun))
		return -EINVAL;
	if (i == 4 && (strncmp(tok[3], "limit=", 6) ||
		       kstrtou64(tok[3] + 6, 0, &limit)))
		return -EINVAL;
	ret = vsas_scan_generic(vh, ch, id, lun, limit);
	return ret < 0 ? ret : count;
}

static const struct file_operations vsas_scan_generic_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = vsas_scan_generic_write,
	.llseek = noop_llseek,
};

/*
 * scan_devices: the lab's emulation, for kernels without the fix series, of
 * what the fixed sas_user_scan() does with ->user_scan_devices()
 * (docs/design.md, steps 3 and 5; not the rphy scan of step 4,
 * which a real scan write does): collect the personality's reports under
 * scan_mutex, keep those the request "C T L" selects, sort them by
 * (channel, id, lun; wildcard last), drop duplicates and scan each with
 * scsi_scan_target(host, ch, id, L, SCSI_SCAN_MANUAL), L the entry's LUN or
 * the requested one. Returns the count written, or -EBUSY as the hook did.
 */
struct vsas_scan_ent {
	unsigned int ch, id;
	u64 lun;
};

struct vsas_scan_coll {
	struct vsas_scan_ent *e;
	unsigned int n, cap;
	u64 ch, id, lun;	/* the request */
};

static int vsas_coll_add(void *ctx, unsigned int ch, unsigned int id, u64 lun)
{
	struct vsas_scan_coll *c = ctx;

	if ((c->ch != SCAN_WILD_CARD && c->ch != ch) ||
	    (c->id != SCAN_WILD_CARD && c->id != id) ||
	    (c->lun != SCAN_WILD_CARD && lun != SCAN_WILD_CARD && c->lun != lun))
		return 0;
	if (c->n == c->cap)
		return -ENOMEM;
	c->e[c->n].ch = ch;
	c->e[c->n].id = id;
	c->e[c->n].lun = lun;
	c->n++;
	return 0;
}

static int vsas_ent_cmp(const void *a, const void *b)
{
	const struct vsas_scan_ent *x = a, *y = b;

	if (x->ch != y->ch)
		return x->ch < y->ch ? -1 : 1;
	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	if (x->lun != y->lun)	/* SCAN_WILD_CARD (~0) sorts last */
		return x->lun < y->lun ? -1 : 1;
	return 0;
}

static long vsas_scan_devices(struct vsas_host *vh, u64 ch, u64 id, u64 lun)
{
	struct Scsi_Host *shost = vh->shost;
	struct vsas_scan_coll c = { .cap = 4096, .ch = ch, .id = id, .lun = lun };
	unsigned int i;
	long ret;

	c.e = kvcalloc(c.cap, sizeof(*c.e), GFP_KERNEL);
	if (!c.e)
		return -ENOMEM;
	ret = pm_runtime_resume_and_get(&shost->shost_gendev);
	if (ret < 0)
		goto out;
	mutex_lock(&shost->scan_mutex);
	ret = vsas_collect_devices(vh, vsas_coll_add, &c);
	mutex_unlock(&shost->scan_mutex);
	if (!ret) {
		sort(c.e, c.n, sizeof(*c.e), vsas_ent_cmp, NULL);
		for (i = 0; i < c.n; i++) {
			if (i && !vsas_ent_cmp(&c.e[i - 1], &c.e[i]))
				continue;
			scsi_scan_target(&shost->shost_gendev, c.e[i].ch, c.e[i].id,
					 c.e[i].lun == SCAN_WILD_CARD ? lun : c.e[i].lun,
					 SCSI_SCAN_MANUAL);
		}
	}
	pm_runtime_put(&shost->shost_gendev);
out:
	kvfree(c.e);
	return ret;
}

static ssize_t vsas_scan_devices_write(struct file *file,
				       const char __user *ubuf, size_t count,
				       loff_t *ppos)
{
	struct vsas_host *vh = file_inode(file)->i_private;
	char buf[96], *p = buf, *tok[3] = { NULL };
	size_t n = min(count, sizeof(buf) - 1);
	unsigned int i = 0;
	u64 ch, id, lun;
	long ret;

	if (copy_from_user(buf, ubuf, n))
		return -EFAULT;
	buf[n] = '\0';
	while (i < 3 && (tok[i] = strsep(&p, " \t\n")))
		if (*tok[i])
			i++;
	if (i < 3 || vsas_parse_wild(tok[0], &ch) || vsas_parse_wild(tok[1], &id) ||
	    vsas_parse_wild(tok[2], &lun))
		return -EINVAL;
	ret = vsas_scan_devices(vh, ch, id, lun);
	return ret < 0 ? ret : count;
}

static const struct file_operations vsas_scan_devices_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = vsas_scan_devices_write,
	.llseek = noop_llseek,
};

void vsas_debugfs_add(struct vsas_host *vh)
{
	char name[32];

	snprintf(name, sizeof(name), "host%u", vh->shost->host_no);
	vh->dbg = debugfs_create_dir(name, vsas_dbg_root);
	debugfs_create_file("counters", 0600, vh->dbg, vh, &vsas_counters_fops);
	debugfs_create_file("state", 0400, vh->dbg, vh, &vsas_state_fops);
	debugfs_create_bool("isci_escape", 0600, vh->dbg, &vh->isci_escape);
	debugfs_create_file("call_scan", 0200, vh->dbg, vh, &vsas_call_scan_fops);
	debugfs_create_file("scan_devices", 0200, vh->dbg, vh,
			    &vsas_scan_devices_fops);
	debugfs_create_file("scan_generic", 0200, vh->dbg, vh,
			    &vsas_scan_generic_fops);
}

void vsas_debugfs_remove(struct vsas_host *vh)
{
	debugfs_remove_recursive(vh->dbg);
	vh->dbg = NULL;
}

void vsas_debugfs_init(void)
{
	vsas_dbg_root = debugfs_create_dir(VSAS_NAME, NULL);
}

void vsas_debugfs_exit(void)
{
	debugfs_remove_recursive(vsas_dbg_root);
}
