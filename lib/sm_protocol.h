/* SPDX-License-Identifier: MIT */
/*
 * The service manager's protocol, shared by the library's client and
 * ubinder-servicemanager: Android's android.os.IServiceManager AIDL
 * interface (transaction codes in declaration order, from
 * FIRST_CALL_TRANSACTION) and android.os.IServiceCallback. docs/api.md
 * documents the parcels.
 */
#pragma once

#include <stdbool.h>
#include <string.h>

enum sm_code {
	SM_GET_SERVICE = 1,		     /* (String name) -> IBinder */
	SM_CHECK_SERVICE = 2,		     /* (String name) -> IBinder */
	SM_ADD_SERVICE = 3,		     /* (String name, IBinder, boolean, int) */
	SM_LIST_SERVICES = 4,		     /* (int dumpPriority) -> String[] */
	SM_REGISTER_FOR_NOTIFICATIONS = 5,   /* (String name, IServiceCallback) */
	SM_UNREGISTER_FOR_NOTIFICATIONS = 6, /* (String name, IServiceCallback) */
	SM_IS_DECLARED = 7,		     /* (String name) -> boolean */
};

/* IServiceCallback: oneway onRegistration(String name, IBinder binder). */
#define SM_CALLBACK_ON_REGISTRATION 1

/* Dump priorities (addService's last argument, listServices' filter). */
#define SM_DUMP_FLAG_PRIORITY_DEFAULT (1 << 3)
#define SM_DUMP_FLAG_PRIORITY_ALL     0x0f

#define SM_NAME_MAX 127

/* Names: 1 to 127 characters of [A-Za-z0-9._/-]. */
static inline bool sm_name_valid(const char *name)
{
	size_t len = name ? strlen(name) : 0;

	if (len == 0 || len > SM_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-' || c == '/'))
			return false;
	}
	return true;
}
