/* SPDX-License-Identifier: MIT */
/*
 * libubinder: Binder IPC for C programs, over ubinderd.
 *
 *   status.h          status codes, ubinder_strerror()
 *   parcel.h          parcels in Android's wire encoding
 *   binder.h          contexts, local and remote objects, threads
 *   servicemanager.h  named services
 *   hidl.h            HIDL (hwbinder): scatter-gather parcels, IBase objects
 *
 * docs/api.md is the guide, with a complete service and client.
 */
#pragma once

#include "ubinder/status.h"
#include "ubinder/parcel.h"
#include "ubinder/binder.h"
#include "ubinder/servicemanager.h"
#include "ubinder/hidl.h"

#define UBINDER_VERSION_MAJOR 0
#define UBINDER_VERSION_MINOR 1
