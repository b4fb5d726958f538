/* SPDX-License-Identifier: MIT */
/*
 * The library's load: a Binder file reports to handoff what an exec must
 * carry over, and the Binder files an exec'd image left open are taken over.
 * The top of the library's lifetime: nothing calls it.
 */
#include "bfile.h"
#include "handoff.h"

__attribute__((constructor)) static void preload_init(void)
{
	bfile_init(&handoff_bfile_hooks);
	handoff_restore();
}
