// SPDX-License-Identifier: GPL-2.0
/*
 * sasscan_selftest: proves that the lab's splat detector works.
 *
 * debugfs files under sasscan_selftest/:
 *   warn        write anything: the kernel prints a WARNING splat
 *   block_secs  write N: the writer sleeps N seconds in D state, so the
 *               hung-task detector reports it when N exceeds its timeout
 */
#include <linux/bug.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/module.h>

static struct dentry *selftest_dir;

static ssize_t warn_write(struct file *file, const char __user *buf,
			  size_t count, loff_t *ppos)
{
	WARN(1, "sasscan_selftest: deliberate warning\n");
	return count;
}

static ssize_t block_write(struct file *file, const char __user *buf,
			   size_t count, loff_t *ppos)
{
	unsigned int secs;
	int ret;

	ret = kstrtouint_from_user(buf, count, 0, &secs);
	if (ret)
		return ret;
	if (secs > 600)
		return -EINVAL;
	/* uninterruptible, so the hung-task detector sees a blocked task */
	schedule_timeout_uninterruptible(secs * HZ);
	return count;
}

static const struct file_operations warn_fops = {
	.owner = THIS_MODULE,
	.write = warn_write,
};

static const struct file_operations block_fops = {
	.owner = THIS_MODULE,
	.write = block_write,
};

static int __init selftest_init(void)
{
	selftest_dir = debugfs_create_dir("sasscan_selftest", NULL);
	debugfs_create_file("warn", 0200, selftest_dir, NULL, &warn_fops);
	debugfs_create_file("block_secs", 0200, selftest_dir, NULL, &block_fops);
	return 0;
}

static void __exit selftest_exit(void)
{
	debugfs_remove(selftest_dir);
}

module_init(selftest_init);
module_exit(selftest_exit);
MODULE_DESCRIPTION("sasscan lab: deliberate kernel splats for the runner's self-tests");
MODULE_LICENSE("GPL");
