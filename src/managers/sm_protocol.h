/* SPDX-License-Identifier: MIT */
/*
 * The service manager's protocol, shared by the library's client and
 * ubinder-servicemanager, in each Android generation (docs/tools.md):
 *   - Android 10 and before: the C servicemanager's four codes, with raw
 *     replies (no AIDL status) and binders without a stability word;
 *   - Android 11 and later: the android.os.IServiceManager AIDL interface,
 *     whose transaction codes (FIRST_CALL_TRANSACTION + declaration order)
 *     moved as methods were inserted: the maps below, by API level.
 * android.os.IServiceCallback and IClientCallback are the callbacks.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The service manager's methods, whatever their code. */
enum sm_method {
	SM_NONE = 0,
	SM_GET_SERVICE,			 /* (String name) -> IBinder */
	SM_GET_SERVICE2,		 /* (String name) -> Service (Android 15+) */
	SM_CHECK_SERVICE,		 /* (String name) -> IBinder */
	SM_CHECK_SERVICE2,		 /* (String name) -> Service (Android 16) */
	SM_ADD_SERVICE,			 /* (String name, IBinder, boolean, int) */
	SM_LIST_SERVICES,		 /* (int dumpPriority) -> String[]; legacy: by index */
	SM_REGISTER_FOR_NOTIFICATIONS,	 /* (String name, IServiceCallback) */
	SM_UNREGISTER_FOR_NOTIFICATIONS, /* (String name, IServiceCallback) */
	SM_IS_DECLARED,			 /* (String name) -> boolean */
	SM_GET_DECLARED_INSTANCES,	 /* (String iface) -> String[] */
	SM_UPDATABLE_VIA_APEX,		 /* (String name) -> @nullable String */
	SM_GET_UPDATABLE_NAMES,		 /* (String apexName) -> String[] */
	SM_GET_CONNECTION_INFO,		 /* (String name) -> @nullable ConnectionInfo */
	SM_REGISTER_CLIENT_CALLBACK,	 /* (String name, IBinder, IClientCallback) */
	SM_TRY_UNREGISTER_SERVICE,	 /* (String name, IBinder) */
	SM_GET_SERVICE_DEBUG_INFO,	 /* () -> ServiceDebugInfo[] */
	SM_CHECK_SERVICE_ACCESS,	 /* (CallerContext, String name, String perm) -> boolean */
};

/* A code map: the methods in code order from FIRST_CALL_TRANSACTION (1). */
struct sm_map {
	int api_level; /* the first API level using it */
	const char *android;
	const enum sm_method *methods;
	size_t count;
};

#define SM_MAP(level, name, ...)                                                                 \
	{                                                                                        \
		level, name, (const enum sm_method[]){ __VA_ARGS__ },                            \
			sizeof((const enum sm_method[]){ __VA_ARGS__ }) / sizeof(enum sm_method) \
	}

#define SM_COMMON_1_7                                                       \
	SM_GET_SERVICE, SM_CHECK_SERVICE, SM_ADD_SERVICE, SM_LIST_SERVICES, \
		SM_REGISTER_FOR_NOTIFICATIONS, SM_UNREGISTER_FOR_NOTIFICATIONS, SM_IS_DECLARED
#define SM_COMMON_V                                                                         \
	SM_ADD_SERVICE, SM_LIST_SERVICES, SM_REGISTER_FOR_NOTIFICATIONS,                    \
		SM_UNREGISTER_FOR_NOTIFICATIONS, SM_IS_DECLARED, SM_GET_DECLARED_INSTANCES, \
		SM_UPDATABLE_VIA_APEX, SM_GET_UPDATABLE_NAMES, SM_GET_CONNECTION_INFO,      \
		SM_REGISTER_CLIENT_CALLBACK, SM_TRY_UNREGISTER_SERVICE, SM_GET_SERVICE_DEBUG_INFO

/* Newest first; the first whose api_level is at most N is Android N's map. */
static const struct sm_map sm_maps[] = {
	SM_MAP(36, "16", SM_GET_SERVICE, SM_GET_SERVICE2, SM_CHECK_SERVICE, SM_CHECK_SERVICE2,
	       SM_COMMON_V, SM_CHECK_SERVICE_ACCESS),
	SM_MAP(35, "15", SM_GET_SERVICE, SM_GET_SERVICE2, SM_CHECK_SERVICE, SM_COMMON_V),
	SM_MAP(34, "14", SM_COMMON_1_7, SM_GET_DECLARED_INSTANCES, SM_UPDATABLE_VIA_APEX,
	       SM_GET_UPDATABLE_NAMES, SM_GET_CONNECTION_INFO, SM_REGISTER_CLIENT_CALLBACK,
	       SM_TRY_UNREGISTER_SERVICE, SM_GET_SERVICE_DEBUG_INFO),
	SM_MAP(33, "13", SM_COMMON_1_7, SM_GET_DECLARED_INSTANCES, SM_UPDATABLE_VIA_APEX,
	       SM_GET_CONNECTION_INFO, SM_REGISTER_CLIENT_CALLBACK, SM_TRY_UNREGISTER_SERVICE,
	       SM_GET_SERVICE_DEBUG_INFO),
	SM_MAP(31, "12", SM_COMMON_1_7, SM_GET_DECLARED_INSTANCES, SM_UPDATABLE_VIA_APEX,
	       SM_REGISTER_CLIENT_CALLBACK, SM_TRY_UNREGISTER_SERVICE, SM_GET_SERVICE_DEBUG_INFO),
	SM_MAP(30, "11", SM_COMMON_1_7, SM_REGISTER_CLIENT_CALLBACK, SM_TRY_UNREGISTER_SERVICE),
	SM_MAP(0, "10 and before", SM_GET_SERVICE, SM_CHECK_SERVICE, SM_ADD_SERVICE,
	       SM_LIST_SERVICES),
};

/* The oldest and newest API levels a map is chosen for explicitly. */
#define SM_API_LEVEL_MIN  28
#define SM_API_LEVEL_MAX  36
/* The first API level of the AIDL service manager (and the 'SYST' token). */
#define SM_API_LEVEL_AIDL 30

static inline const struct sm_map *sm_map_for(int api_level)
{
	size_t i = 0;

	while (sm_maps[i].api_level > api_level)
		i++;
	return &sm_maps[i];
}

/* The header generation (UBINDER_HEADER_*) of an API level's libbinder. */
static inline int sm_header_for(int api_level)
{
	return api_level >= SM_API_LEVEL_AIDL ? 3 : api_level == 29 ? 2 : 1;
}

static inline enum sm_method sm_method_of(const struct sm_map *m, uint32_t code)
{
	return code >= 1 && code <= m->count ? m->methods[code - 1] : SM_NONE;
}

/* The method's code in @m; 0 if it has none. */
static inline uint32_t sm_code_of(const struct sm_map *m, enum sm_method method)
{
	for (size_t i = 0; i < m->count; i++) {
		if (m->methods[i] == method)
			return (uint32_t)i + 1;
	}
	return 0;
}

/* IServiceCallback: oneway onRegistration(String name, IBinder binder). */
#define SM_CALLBACK_ON_REGISTRATION   1
/* IClientCallback: oneway onClients(IBinder registered, boolean hasClients). */
#define SM_CLIENT_CALLBACK_DESCRIPTOR "android.os.IClientCallback"
#define SM_CLIENT_CALLBACK_ON_CLIENTS 1

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
