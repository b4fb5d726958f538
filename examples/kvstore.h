/* SPDX-License-Identifier: MIT */
/*
 * The example key-value store's interface, shared by its service and
 * client. It follows AIDL's conventions, so an Android client could call it:
 * every request starts with the interface token, every reply with an AIDL
 * status (UBINDER_EX_NONE, or an exception), then the results.
 *
 *   interface org.ubinder.example.IKeyValue {
 *       void put(String key, String value);            // 1
 *       @nullable String get(String key);              // 2
 *       int count();                                   // 3
 *       oneway void note(String text);                 // 4
 *       void watch(IKeyValueWatcher watcher);          // 5
 *   }
 *   interface org.ubinder.example.IKeyValueWatcher {
 *       oneway void onChange(String key, String value);  // 1
 *   }
 */
#pragma once

#define KV_SERVICE_NAME	      "kvstore"
#define KV_DESCRIPTOR	      "org.ubinder.example.IKeyValue"
#define KV_WATCHER_DESCRIPTOR "org.ubinder.example.IKeyValueWatcher"

enum kv_code {
	KV_PUT = 1,
	KV_GET = 2,
	KV_COUNT = 3,
	KV_NOTE = 4, /* oneway */
	KV_WATCH = 5,
};

#define KV_WATCHER_ON_CHANGE 1 /* oneway */
