// SPDX-License-Identifier: GPL-2.0
/*
 * The lab's KUnit suites of the real driver hooks (lab/hook-tests/<line>/,
 * fixed kernels of the lines that have them): each suite is built into its
 * driver and runs when the driver loads, with no HBA present.
 */
#include "guest.h"

GUEST_CASE(hook_kunit_mpt3sas, "mpt3sas_user_scan: mpt3sas's user scan hook, real driver state")
{
	return kunit_case("mpt3sas_user_scan", "mpt3sas");
}

GUEST_CASE(hook_kunit_mpi3mr, "mpi3mr_user_scan: mpi3mr's user scan hook, real driver state")
{
	return kunit_case("mpi3mr_user_scan", "mpi3mr");
}

GUEST_CASE(hook_kunit_hpsa, "hpsa_user_scan: hpsa's user scan hook, real driver state")
{
	return kunit_case("hpsa_user_scan", "hpsa");
}
