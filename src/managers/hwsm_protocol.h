/* SPDX-License-Identifier: MIT */
/*
 * android.hidl.manager@1.0/1.1/1.2::IServiceManager on the wire: what
 * ubinder-hwservicemanager serves and its tests call. Facts from libhidl's
 * transport/manager/1.x/IServiceManager.hal (method order gives the codes,
 * from 1; each version's methods continue the previous one's) and the
 * generated stubs (each method's interface token is the descriptor of the
 * version that declares it). docs/tools.md lists them.
 */
#pragma once

#define HWSM_DESCRIPTOR_1_0		"android.hidl.manager@1.0::IServiceManager"
#define HWSM_DESCRIPTOR_1_1		"android.hidl.manager@1.1::IServiceManager"
#define HWSM_DESCRIPTOR_1_2		"android.hidl.manager@1.2::IServiceManager"
#define HWSM_NOTIFICATION_DESCRIPTOR	"android.hidl.manager@1.0::IServiceNotification"
#define HWSM_CLIENT_CALLBACK_DESCRIPTOR "android.hidl.manager@1.2::IClientCallback"

enum hwsm_code {
	/* 1.0 */
	HWSM_GET = 1,			     /* (string fqName, string name) -> IBase */
	HWSM_ADD = 2,			     /* (string name, IBase) -> bool */
	HWSM_GET_TRANSPORT = 3,		     /* (string fqName, string name) -> Transport (uint8) */
	HWSM_LIST = 4,			     /* () -> vec<string> fqName/name */
	HWSM_LIST_BY_INTERFACE = 5,	     /* (string fqName) -> vec<string> names */
	HWSM_REGISTER_FOR_NOTIFICATIONS = 6, /* (string fqName, string name, cb) -> bool */
	HWSM_DEBUG_DUMP = 7,		     /* () -> vec<InstanceDebugInfo> */
	HWSM_REGISTER_PASSTHROUGH_CLIENT = 8, /* (string fqName, string name) */
	/* 1.1 */
	HWSM_UNREGISTER_FOR_NOTIFICATIONS = 9, /* (string fqName, string name, cb) -> bool */
	/* 1.2 */
	HWSM_REGISTER_CLIENT_CALLBACK = 10,   /* (fqName, name, IBase server, cb) -> bool */
	HWSM_UNREGISTER_CLIENT_CALLBACK = 11, /* (IBase server, cb) -> bool */
	HWSM_ADD_WITH_CHAIN = 12,	      /* (string name, IBase, vec<string> chain) -> bool */
	HWSM_LIST_MANIFEST_BY_INTERFACE = 13, /* (string fqName) -> vec<string> names */
	HWSM_TRY_UNREGISTER = 14,	      /* (string fqName, string name, IBase) -> bool */
};

/* IServiceManager::Transport. */
enum hwsm_transport {
	HWSM_TRANSPORT_EMPTY = 0,
	HWSM_TRANSPORT_HWBINDER = 1,
	HWSM_TRANSPORT_PASSTHROUGH = 2,
};

/* IServiceNotification.onRegistration(string fqName, string name, bool
 * preexisting), oneway; IClientCallback.onClients(IBase, bool), oneway. */
#define HWSM_ON_REGISTRATION 1
#define HWSM_ON_CLIENTS	     1

/* InstanceDebugInfo (1.0): string interfaceName @0, string instanceName @16,
 * int32 pid @32, vec<int32> clientPids @40, int32 arch @56; 64 bytes. */
#define HWSM_DEBUG_INFO_SIZE	  64u
#define HWSM_DEBUG_INFO_INTERFACE 0u
#define HWSM_DEBUG_INFO_INSTANCE  16u
#define HWSM_DEBUG_INFO_PID	  32u
#define HWSM_DEBUG_INFO_CLIENTS	  40u
#define HWSM_DEBUG_INFO_ARCH	  56u
#define HWSM_NO_PID		  (-1) /* IServiceManager::PidConstant::NO_PID */
