// SPDX-License-Identifier: GPL-2.0
/*
 * vsas: control through configfs.
 *
 *   mkdir /sys/kernel/config/vsas/<name>      a host (not yet enabled)
 *   <name>/personality                        write first: sets defaults
 *   <name>/{max_channel,max_id,...}           per-host overrides
 *   <name>/topology                           initial devices (disabled)
 *   <name>/enable                             1: create the Scsi_Host
 *   <name>/host_no                            SCSI host number or -1
 *   <name>/devices                            list; "add ..."/"remove ..."
 *   rmdir /sys/kernel/config/vsas/<name>      remove the host
 *
 * Invalid input returns -EINVAL and changes nothing.
 */
#include <linux/configfs.h>
#include <linux/kernel.h>
#include <linux/pm_runtime.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "vsas.h"

struct vsas_cfs_host {
	struct config_group group;
	struct vsas_host *vh;
};

static struct vsas_host *to_vh(struct config_item *item)
{
	return container_of(to_config_group(item), struct vsas_cfs_host,
			    group)->vh;
}

/* ---- personality, enable, host_no, topology, devices -------------------- */

static ssize_t vsas_cfs_personality_show(struct config_item *item, char *page)
{
	struct vsas_host *vh = to_vh(item);

	return sysfs_emit(page, "%s\n", vh->pers ? vh->pers->name : "");
}

static ssize_t vsas_cfs_personality_store(struct config_item *item,
					  const char *page, size_t count)
{
	struct vsas_host *vh = to_vh(item);
	const struct vsas_personality *pers = vsas_find_personality(page);
	ssize_t ret = count;

	if (!pers)
		return -EINVAL;
	mutex_lock(&vh->cfg_lock);
	if (vh->enabled || !list_empty(&vh->devs))
		ret = -EBUSY;
	else
		vsas_host_set_personality(vh, pers);
	mutex_unlock(&vh->cfg_lock);
	return ret;
}

static ssize_t vsas_cfs_enable_show(struct config_item *item, char *page)
{
	return sysfs_emit(page, "%d\n", to_vh(item)->enabled);
}

static ssize_t vsas_cfs_enable_store(struct config_item *item,
				     const char *page, size_t count)
{
	struct vsas_host *vh = to_vh(item);
	bool on;
	int ret;

	if (kstrtobool(page, &on))
		return -EINVAL;
	mutex_lock(&vh->cfg_lock);
	if (on) {
		ret = vh->pers ? vsas_host_enable(vh) : -EINVAL;
	} else {
		vsas_host_disable(vh);
		ret = 0;
	}
	mutex_unlock(&vh->cfg_lock);
	return ret ? ret : count;
}

static ssize_t vsas_cfs_host_no_show(struct config_item *item, char *page)
{
	struct vsas_host *vh = to_vh(item);
	int n;

	mutex_lock(&vh->cfg_lock);
	n = vh->enabled ? (int)vh->shost->host_no : -1;
	mutex_unlock(&vh->cfg_lock);
	return sysfs_emit(page, "%d\n", n);
}

static ssize_t vsas_cfs_topology_show(struct config_item *item, char *page)
{
	return sysfs_emit(page, "%s\n", to_vh(item)->topology);
}

static ssize_t vsas_cfs_topology_store(struct config_item *item,
				       const char *page, size_t count)
{
	struct vsas_host *vh = to_vh(item);
	int ret;

	if (count >= sizeof(vh->topology))
		return -EINVAL;
	mutex_lock(&vh->cfg_lock);
	if (!vh->pers)
		ret = -EINVAL;
	else if (vh->enabled || !list_empty(&vh->devs))
		ret = -EBUSY;
	else
		ret = vsas_parse_topology(vh, page);
	if (!ret) {
		strscpy(vh->topology, page, sizeof(vh->topology));
		strim(vh->topology);
	}
	mutex_unlock(&vh->cfg_lock);
	return ret ? ret : count;
}

static ssize_t vsas_cfs_devices_show(struct config_item *item, char *page)
{
	return vsas_dev_list(to_vh(item), page, PAGE_SIZE);
}

static ssize_t vsas_cfs_devices_store(struct config_item *item,
				      const char *page, size_t count)
{
	struct vsas_host *vh = to_vh(item);
	int ret;

	mutex_lock(&vh->cfg_lock);
	ret = vh->pers ? vsas_dev_command(vh, page) : -EINVAL;
	mutex_unlock(&vh->cfg_lock);
	return ret ? ret : count;
}

/* "name\n" -> index in @names (NULL-terminated), or -EINVAL */
static int vsas_cfs_choice(const char * const *names, const char *page)
{
	int i;

	for (i = 0; names[i]; i++)
		if (sysfs_streq(names[i], page))
			return i;
	return -EINVAL;
}

/* what a volume answers to REPORT LUNS: all|self|none (also at runtime) */
static ssize_t vsas_cfs_report_luns_show(struct config_item *item, char *page)
{
	return sysfs_emit(page, "%s\n",
			  vsas_report_luns_names[READ_ONCE(to_vh(item)->report_luns)]);
}

static ssize_t vsas_cfs_report_luns_store(struct config_item *item,
					  const char *page, size_t count)
{
	int v = vsas_cfs_choice(vsas_report_luns_names, page);

	if (v < 0)
		return v;
	WRITE_ONCE(to_vh(item)->report_luns, v);
	return count;
}

/* the modelled driver's state: ok|reset|discovery|removing (runtime) */
static ssize_t vsas_cfs_driver_state_show(struct config_item *item, char *page)
{
	return sysfs_emit(page, "%s\n",
			  vsas_drv_state_names[READ_ONCE(to_vh(item)->drv_state)]);
}

static ssize_t vsas_cfs_driver_state_store(struct config_item *item,
					   const char *page, size_t count)
{
	struct vsas_host *vh = to_vh(item);
	int v = vsas_cfs_choice(vsas_drv_state_names, page);

	if (v < 0)
		return v;
	mutex_lock(&vh->cfg_lock);
	if (!vh->pers)
		v = -EINVAL;
	else
		v = vsas_set_drv_state(vh, v);
	mutex_unlock(&vh->cfg_lock);
	return v ? v : count;
}

CONFIGFS_ATTR(vsas_cfs_, report_luns);
CONFIGFS_ATTR(vsas_cfs_, driver_state);
CONFIGFS_ATTR(vsas_cfs_, personality);
CONFIGFS_ATTR(vsas_cfs_, enable);
CONFIGFS_ATTR_RO(vsas_cfs_, host_no);
CONFIGFS_ATTR(vsas_cfs_, topology);
CONFIGFS_ATTR(vsas_cfs_, devices);

/* ---- numeric parameters -------------------------------------------------- */

/*
 * @runtime: may change while the host exists (read on every use);
 * otherwise only while disabled (-EBUSY).
 */
#define VSAS_PARAM(field, type, conv, fmt, runtime, check)			\
static ssize_t vsas_cfs_##field##_show(struct config_item *item, char *page) \
{									\
	return sysfs_emit(page, fmt "\n", vsas_cfs_get_##field(to_vh(item))); \
}									\
static ssize_t vsas_cfs_##field##_store(struct config_item *item,	\
					const char *page, size_t count)	\
{									\
	struct vsas_host *vh = to_vh(item);				\
	type v;								\
	ssize_t ret = count;						\
									\
	if (conv(page, 0, &v) || !(check))				\
		return -EINVAL;						\
	mutex_lock(&vh->cfg_lock);					\
	if (!vh->pers)							\
		ret = -EINVAL;						\
	else if (vh->enabled && !(runtime))				\
		ret = -EBUSY;						\
	else								\
		vsas_cfs_apply_##field(vh, v);				\
	mutex_unlock(&vh->cfg_lock);					\
	return ret;							\
}									\
CONFIGFS_ATTR(vsas_cfs_, field)

#define VSAS_GET(field, type)						\
static type vsas_cfs_get_##field(struct vsas_host *vh)			\
{									\
	return vh->p.field;						\
}

#define VSAS_SIMPLE_APPLY(field, type)					\
static void vsas_cfs_apply_##field(struct vsas_host *vh, type v)	\
{									\
	vh->p.field = v;						\
}

static void vsas_cfs_apply_max_channel(struct vsas_host *vh, unsigned int v)
{
	vh->p.max_channel = v;
	if (vh->enabled)
		vh->shost->max_channel = v;
}

static void vsas_cfs_apply_max_id(struct vsas_host *vh, unsigned int v)
{
	vh->p.max_id = v;
	if (vh->enabled)
		vh->shost->max_id = v;
}

static void vsas_cfs_apply_max_lun(struct vsas_host *vh, u64 v)
{
	vh->p.max_lun = v;
	if (vh->enabled)
		vh->shost->max_lun = v;
}

static void vsas_cfs_apply_autosuspend_ms(struct vsas_host *vh, int v)
{
	vh->p.autosuspend_ms = v;
	if (vh->enabled)
		pm_runtime_set_autosuspend_delay(vh->pdev, v);
}

VSAS_SIMPLE_APPLY(num_phys, unsigned int)
VSAS_SIMPLE_APPLY(capacity_mb, unsigned int)
VSAS_SIMPLE_APPLY(io_delay_ms, unsigned int)
VSAS_SIMPLE_APPLY(absent_delay_ms, unsigned int)
VSAS_SIMPLE_APPLY(scan_ms, unsigned int)
VSAS_SIMPLE_APPLY(scan_timeout_ms, unsigned int)
VSAS_SIMPLE_APPLY(rescan_delay_ms, unsigned int)
VSAS_SIMPLE_APPLY(link_down_ms, unsigned int)
VSAS_SIMPLE_APPLY(can_queue, unsigned int)
VSAS_SIMPLE_APPLY(rpm_allow, bool)
VSAS_SIMPLE_APPLY(deadlock_real, bool)
VSAS_SIMPLE_APPLY(scan_on_create, bool)

VSAS_GET(max_channel, unsigned int)
VSAS_GET(max_id, unsigned int)
VSAS_GET(max_lun, u64)
VSAS_GET(num_phys, unsigned int)
VSAS_GET(capacity_mb, unsigned int)
VSAS_GET(io_delay_ms, unsigned int)
VSAS_GET(absent_delay_ms, unsigned int)
VSAS_GET(scan_ms, unsigned int)
VSAS_GET(scan_timeout_ms, unsigned int)
VSAS_GET(rescan_delay_ms, unsigned int)
VSAS_GET(link_down_ms, unsigned int)
VSAS_GET(can_queue, unsigned int)
VSAS_GET(autosuspend_ms, int)
VSAS_GET(rpm_allow, bool)
VSAS_GET(deadlock_real, bool)
VSAS_GET(scan_on_create, bool)

static int vsas_kstrtobool(const char *s, unsigned int base, bool *v)
{
	return kstrtobool(s, v);
}

VSAS_PARAM(max_channel, unsigned int, kstrtouint, "%u", true, true);
VSAS_PARAM(max_id, unsigned int, kstrtouint, "%u", true, true);
VSAS_PARAM(max_lun, u64, kstrtou64, "%llu", true, true);
VSAS_PARAM(num_phys, unsigned int, kstrtouint, "%u", false,
	   v >= 2 && v <= VSAS_MAX_PHYS);
VSAS_PARAM(capacity_mb, unsigned int, kstrtouint, "%u", false,
	   v >= 1 && v <= 65536);
VSAS_PARAM(io_delay_ms, unsigned int, kstrtouint, "%u", true, v <= 600000);
VSAS_PARAM(absent_delay_ms, unsigned int, kstrtouint, "%u", true, v <= 600000);
VSAS_PARAM(scan_ms, unsigned int, kstrtouint, "%u", true, v <= 600000);
VSAS_PARAM(scan_timeout_ms, unsigned int, kstrtouint, "%u", true, v <= 3600000);
VSAS_PARAM(rescan_delay_ms, unsigned int, kstrtouint, "%u", true, v <= 600000);
VSAS_PARAM(link_down_ms, unsigned int, kstrtouint, "%u", true, v <= 60000);
VSAS_PARAM(can_queue, unsigned int, kstrtouint, "%u", false,
	   v >= 1 && v <= 4096);
VSAS_PARAM(autosuspend_ms, int, kstrtoint, "%d", true, v >= -1);
VSAS_PARAM(rpm_allow, bool, vsas_kstrtobool, "%d", false, true);
VSAS_PARAM(deadlock_real, bool, vsas_kstrtobool, "%d", true, true);
VSAS_PARAM(scan_on_create, bool, vsas_kstrtobool, "%d", false, true);

static struct configfs_attribute *vsas_cfs_host_attrs[] = {
	&vsas_cfs_attr_personality,
	&vsas_cfs_attr_enable,
	&vsas_cfs_attr_host_no,
	&vsas_cfs_attr_topology,
	&vsas_cfs_attr_devices,
	&vsas_cfs_attr_report_luns,
	&vsas_cfs_attr_driver_state,
	&vsas_cfs_attr_max_channel,
	&vsas_cfs_attr_max_id,
	&vsas_cfs_attr_max_lun,
	&vsas_cfs_attr_num_phys,
	&vsas_cfs_attr_capacity_mb,
	&vsas_cfs_attr_io_delay_ms,
	&vsas_cfs_attr_absent_delay_ms,
	&vsas_cfs_attr_scan_ms,
	&vsas_cfs_attr_scan_timeout_ms,
	&vsas_cfs_attr_rescan_delay_ms,
	&vsas_cfs_attr_link_down_ms,
	&vsas_cfs_attr_can_queue,
	&vsas_cfs_attr_autosuspend_ms,
	&vsas_cfs_attr_rpm_allow,
	&vsas_cfs_attr_deadlock_real,
	&vsas_cfs_attr_scan_on_create,
	NULL,
};

static void vsas_cfs_host_release(struct config_item *item)
{
	struct vsas_cfs_host *ch = container_of(to_config_group(item),
						struct vsas_cfs_host, group);
	struct vsas_host *vh = ch->vh;

	mutex_lock(&vh->cfg_lock);
	vsas_host_disable(vh);
	mutex_unlock(&vh->cfg_lock);
	vsas_host_free(vh);
	kfree(ch);
}

static struct configfs_item_operations vsas_cfs_host_ops = {
	.release = vsas_cfs_host_release,
};

static const struct config_item_type vsas_cfs_host_type = {
	.ct_item_ops = &vsas_cfs_host_ops,
	.ct_attrs = vsas_cfs_host_attrs,
	.ct_owner = THIS_MODULE,
};

static struct config_group *vsas_cfs_make_host(struct config_group *group,
					       const char *name)
{
	struct vsas_cfs_host *ch = kzalloc(sizeof(*ch), GFP_KERNEL);

	if (!ch)
		return ERR_PTR(-ENOMEM);
	ch->vh = vsas_host_new(name);
	if (!ch->vh) {
		kfree(ch);
		return ERR_PTR(-ENOMEM);
	}
	config_group_init_type_name(&ch->group, name, &vsas_cfs_host_type);
	return &ch->group;
}

static void vsas_cfs_drop_host(struct config_group *group,
			       struct config_item *item)
{
	config_item_put(item);
}

static struct configfs_group_operations vsas_cfs_root_ops = {
	.make_group = vsas_cfs_make_host,
	.drop_item = vsas_cfs_drop_host,
};

/* /sys/kernel/config/vsas/personalities: the table, one name per line */
static ssize_t vsas_cfs_personalities_show(struct config_item *item,
					   char *page)
{
	ssize_t n = 0;
	unsigned int i;

	for (i = 0; i < vsas_nr_personalities; i++)
		n += sysfs_emit_at(page, n, "%s\n", vsas_personalities[i].name);
	return n;
}

CONFIGFS_ATTR_RO(vsas_cfs_, personalities);

static struct configfs_attribute *vsas_cfs_root_attrs[] = {
	&vsas_cfs_attr_personalities,
	NULL,
};

static const struct config_item_type vsas_cfs_root_type = {
	.ct_group_ops = &vsas_cfs_root_ops,
	.ct_attrs = vsas_cfs_root_attrs,
	.ct_owner = THIS_MODULE,
};

static struct configfs_subsystem vsas_cfs_subsys = {
	.su_group = {
		.cg_item = {
			.ci_namebuf = VSAS_NAME,
			.ci_type = &vsas_cfs_root_type,
		},
	},
};

int vsas_configfs_init(void)
{
	config_group_init(&vsas_cfs_subsys.su_group);
	mutex_init(&vsas_cfs_subsys.su_mutex);
	return configfs_register_subsystem(&vsas_cfs_subsys);
}

void vsas_configfs_exit(void)
{
	configfs_unregister_subsystem(&vsas_cfs_subsys);
}
