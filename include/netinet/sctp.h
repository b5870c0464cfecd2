/*
 * netinet/sctp.h -- SCTP socket API declarations for sctpshim.
 *
 * This header describes the Linux SCTP socket ABI (the kernel's SCTP
 * socket options, ancillary-data and notification layouts, plus the
 * lksctp-tools library entry points) so that programs can be built
 * against sctpshim on machines that have neither libsctp-dev nor the
 * kernel's <linux/sctp.h>.  It is written independently for sctpshim;
 * every type, constant and prototype is meant to be binary-compatible
 * with the Linux 6.x uapi <linux/sctp.h> as wrapped by lksctp-tools'
 * <netinet/sctp.h>.  scripts/check-header-abi.sh compares the two.
 *
 * Only libc headers are used.  The include guards reuse the names of
 * the real headers, so mixing this file with <linux/sctp.h> or with the
 * system <netinet/sctp.h> (in either order) does not redefine anything.
 */

/* Guard shared with lksctp-tools' <netinet/sctp.h>. */
#ifndef __linux_sctp_h__
#define __linux_sctp_h__
#define __netinet_sctp_h__ 1

/* Lets a build tell this header apart from the lksctp one. */
#define SCTPSHIM_NETINET_SCTP_H 1

#include <stdint.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>
/* Pulled in first so glibc's IPPROTO_SCTP enumerator is never shadowed
 * by the fallback #define below. */
#include <netinet/in.h>

/*
 * The kernel spells 64-bit fields __u64, which is "unsigned long long"
 * except on the few 64-bit ports whose uapi still uses int-l64.
 * Either way the size and alignment are those of uint64_t.
 */
#if !defined(__SANE_USERSPACE_TYPES__) && \
    (defined(__powerpc64__) || \
     (defined(__mips__) && defined(_MIPS_SZLONG) && _MIPS_SZLONG == 64))
#define __SCTPSHIM_U64 unsigned long
#else
#define __SCTPSHIM_U64 unsigned long long
#endif

/* ===================================================================
 * Part 1: the kernel uapi (<linux/sctp.h>).  Skipped when the real
 * kernel header has already been included; its guard is _SCTP_H once
 * installed (_UAPI_SCTP_H in the source tree and in bionic).
 * =================================================================== */
#if !defined(_SCTP_H) && !defined(_UAPI_SCTP_H)
#define _SCTP_H
#define _UAPI_SCTP_H

#ifdef __cplusplus
extern "C" {
#endif

/* Association identifier, and the special ids for one-to-many sockets. */
typedef int32_t sctp_assoc_t;

#define SCTP_FUTURE_ASSOC	0
#define SCTP_CURRENT_ASSOC	1
#define SCTP_ALL_ASSOC		2

/* ---- Socket option names (level SOL_SCTP) ---- */
#define SCTP_RTOINFO				0
#define SCTP_ASSOCINFO				1
#define SCTP_INITMSG				2
#define SCTP_NODELAY				3
#define SCTP_AUTOCLOSE				4
#define SCTP_SET_PEER_PRIMARY_ADDR		5
#define SCTP_PRIMARY_ADDR			6
#define SCTP_ADAPTATION_LAYER			7
#define SCTP_DISABLE_FRAGMENTS			8
#define SCTP_PEER_ADDR_PARAMS			9
#define SCTP_DEFAULT_SEND_PARAM			10
#define SCTP_EVENTS				11
#define SCTP_I_WANT_MAPPED_V4_ADDR		12
#define SCTP_MAXSEG				13
#define SCTP_STATUS				14
#define SCTP_GET_PEER_ADDR_INFO			15
#define SCTP_DELAYED_ACK_TIME			16
#define SCTP_DELAYED_ACK			SCTP_DELAYED_ACK_TIME
#define SCTP_DELAYED_SACK			SCTP_DELAYED_ACK_TIME
#define SCTP_CONTEXT				17
#define SCTP_FRAGMENT_INTERLEAVE		18
#define SCTP_PARTIAL_DELIVERY_POINT		19
#define SCTP_MAX_BURST				20
#define SCTP_AUTH_CHUNK				21
#define SCTP_HMAC_IDENT				22
#define SCTP_AUTH_KEY				23
#define SCTP_AUTH_ACTIVE_KEY			24
#define SCTP_AUTH_DELETE_KEY			25
#define SCTP_PEER_AUTH_CHUNKS			26
#define SCTP_LOCAL_AUTH_CHUNKS			27
#define SCTP_GET_ASSOC_NUMBER			28
#define SCTP_GET_ASSOC_ID_LIST			29
#define SCTP_AUTO_ASCONF			30
#define SCTP_PEER_ADDR_THLDS			31
#define SCTP_RECVRCVINFO			32
#define SCTP_RECVNXTINFO			33
#define SCTP_DEFAULT_SNDINFO			34
#define SCTP_AUTH_DEACTIVATE_KEY		35
#define SCTP_REUSE_PORT				36
#define SCTP_PEER_ADDR_THLDS_V2			37

/* Options used by the library helpers (sctp_bindx() and friends).
 * 103-106 are retired numbers and stay unused. */
#define SCTP_SOCKOPT_BINDX_ADD			100
#define SCTP_SOCKOPT_BINDX_REM			101
#define SCTP_SOCKOPT_PEELOFF			102
#define SCTP_SOCKOPT_CONNECTX_OLD		107
#define SCTP_GET_PEER_ADDRS			108
#define SCTP_GET_LOCAL_ADDRS			109
#define SCTP_SOCKOPT_CONNECTX			110
#define SCTP_SOCKOPT_CONNECTX3			111
#define SCTP_GET_ASSOC_STATS			112
#define SCTP_PR_SUPPORTED			113
#define SCTP_DEFAULT_PRINFO			114
#define SCTP_PR_ASSOC_STATUS			115
#define SCTP_PR_STREAM_STATUS			116
#define SCTP_RECONFIG_SUPPORTED			117
#define SCTP_ENABLE_STREAM_RESET		118
#define SCTP_RESET_STREAMS			119
#define SCTP_RESET_ASSOC			120
#define SCTP_ADD_STREAMS			121
#define SCTP_SOCKOPT_PEELOFF_FLAGS		122
#define SCTP_STREAM_SCHEDULER			123
#define SCTP_STREAM_SCHEDULER_VALUE		124
#define SCTP_INTERLEAVING_SUPPORTED		125
#define SCTP_SENDMSG_CONNECT			126
#define SCTP_EVENT				127
#define SCTP_ASCONF_SUPPORTED			128
#define SCTP_AUTH_SUPPORTED			129
#define SCTP_ECN_SUPPORTED			130
#define SCTP_EXPOSE_POTENTIALLY_FAILED_STATE	131
#define SCTP_EXPOSE_PF_STATE			SCTP_EXPOSE_POTENTIALLY_FAILED_STATE
#define SCTP_REMOTE_UDP_ENCAPS_PORT		132
#define SCTP_PLPMTUD_PROBE_INTERVAL		133

/* ---- Partial-reliability policies (carried in sinfo_flags bits 4-5) ---- */
#define SCTP_PR_SCTP_NONE	0x0000
#define SCTP_PR_SCTP_TTL	0x0010
#define SCTP_PR_SCTP_RTX	0x0020
#define SCTP_PR_SCTP_PRIO	0x0030
#define SCTP_PR_SCTP_MAX	SCTP_PR_SCTP_PRIO
#define SCTP_PR_SCTP_MASK	0x0030

/* SCTP_PR_INDEX(TTL) == 0, (RTX) == 1, (PRIO) == 2 */
#define __SCTP_PR_INDEX(x)	((x >> 4) - 1)
#define SCTP_PR_INDEX(x)	__SCTP_PR_INDEX(SCTP_PR_SCTP_ ## x)

#define SCTP_PR_POLICY(x)	((x) & SCTP_PR_SCTP_MASK)
#define SCTP_PR_SET_POLICY(flags, x)			\
	do {						\
		flags &= ~SCTP_PR_SCTP_MASK;		\
		flags |= x;				\
	} while (0)
#define SCTP_PR_TTL_ENABLED(x)	(SCTP_PR_POLICY(x) == SCTP_PR_SCTP_TTL)
#define SCTP_PR_RTX_ENABLED(x)	(SCTP_PR_POLICY(x) == SCTP_PR_SCTP_RTX)
#define SCTP_PR_PRIO_ENABLED(x)	(SCTP_PR_POLICY(x) == SCTP_PR_SCTP_PRIO)

/* ---- Stream reconfiguration ---- */
/* values for SCTP_ENABLE_STREAM_RESET */
#define SCTP_ENABLE_RESET_STREAM_REQ	0x01
#define SCTP_ENABLE_RESET_ASSOC_REQ	0x02
#define SCTP_ENABLE_CHANGE_ASSOC_REQ	0x04
#define SCTP_ENABLE_STRRESET_MASK	0x07

/* sctp_reset_streams.srs_flags */
#define SCTP_STREAM_RESET_INCOMING	0x01
#define SCTP_STREAM_RESET_OUTGOING	0x02

/* ---- msghdr.msg_flags bit set on notification reads ---- */
enum sctp_msg_flags {
	MSG_NOTIFICATION = 0x8000
};
#define MSG_NOTIFICATION MSG_NOTIFICATION

/* ===================== ancillary data (cmsg) ===================== */

/* cmsg_type values for cmsg_level IPPROTO_SCTP */
typedef enum sctp_cmsg_type {
	SCTP_INIT,		/* struct sctp_initmsg */
	SCTP_SNDRCV,		/* struct sctp_sndrcvinfo */
	SCTP_SNDINFO,		/* struct sctp_sndinfo */
	SCTP_RCVINFO,		/* struct sctp_rcvinfo */
	SCTP_NXTINFO,		/* struct sctp_nxtinfo */
	SCTP_PRINFO,		/* struct sctp_prinfo */
	SCTP_AUTHINFO,		/* struct sctp_authinfo */
	SCTP_DSTADDRV4,		/* struct in_addr */
	SCTP_DSTADDRV6		/* struct in6_addr */
} sctp_cmsg_t;
#define SCTP_INIT	SCTP_INIT
#define SCTP_SNDRCV	SCTP_SNDRCV
#define SCTP_SNDINFO	SCTP_SNDINFO
#define SCTP_RCVINFO	SCTP_RCVINFO
#define SCTP_NXTINFO	SCTP_NXTINFO
#define SCTP_PRINFO	SCTP_PRINFO
#define SCTP_AUTHINFO	SCTP_AUTHINFO
#define SCTP_DSTADDRV4	SCTP_DSTADDRV4
#define SCTP_DSTADDRV6	SCTP_DSTADDRV6

/* INIT parameters; also the SCTP_INITMSG option value. */
struct sctp_initmsg {
	uint16_t sinit_num_ostreams;
	uint16_t sinit_max_instreams;
	uint16_t sinit_max_attempts;
	uint16_t sinit_max_init_timeo;
};

/* Older combined send/receive info (SCTP_SNDRCV, SCTP_DEFAULT_SEND_PARAM). */
struct sctp_sndrcvinfo {
	uint16_t sinfo_stream;
	uint16_t sinfo_ssn;
	uint16_t sinfo_flags;
	uint32_t sinfo_ppid;
	uint32_t sinfo_context;
	uint32_t sinfo_timetolive;
	uint32_t sinfo_tsn;
	uint32_t sinfo_cumtsn;
	sctp_assoc_t sinfo_assoc_id;
};

/* Per-message send parameters (SCTP_SNDINFO, SCTP_DEFAULT_SNDINFO). */
struct sctp_sndinfo {
	uint16_t snd_sid;
	uint16_t snd_flags;
	uint32_t snd_ppid;
	uint32_t snd_context;
	sctp_assoc_t snd_assoc_id;
};

/* Receive information for the message just read (SCTP_RCVINFO). */
struct sctp_rcvinfo {
	uint16_t rcv_sid;
	uint16_t rcv_ssn;
	uint16_t rcv_flags;
	uint32_t rcv_ppid;
	uint32_t rcv_tsn;
	uint32_t rcv_cumtsn;
	uint32_t rcv_context;
	sctp_assoc_t rcv_assoc_id;
};

/* Look-ahead information about the next queued message (SCTP_NXTINFO). */
struct sctp_nxtinfo {
	uint16_t nxt_sid;
	uint16_t nxt_flags;
	uint32_t nxt_ppid;
	uint32_t nxt_length;
	sctp_assoc_t nxt_assoc_id;
};

/* PR-SCTP policy for one message (SCTP_PRINFO). */
struct sctp_prinfo {
	uint16_t pr_policy;
	uint32_t pr_value;
};

/* AUTH key selection for one message (SCTP_AUTHINFO). */
struct sctp_authinfo {
	uint16_t auth_keynumber;
};

/* Bits of sinfo_flags / snd_flags / rcv_flags.  Bits 4-5 belong to the
 * SCTP_PR_SCTP_* policy. */
enum sctp_sinfo_flags {
	SCTP_UNORDERED		= 1 << 0,
	SCTP_ADDR_OVER		= 1 << 1,
	SCTP_ABORT		= 1 << 2,
	SCTP_SACK_IMMEDIATELY	= 1 << 3,
	SCTP_SENDALL		= 1 << 6,
	SCTP_PR_SCTP_ALL	= 1 << 7,
	SCTP_NOTIFICATION	= MSG_NOTIFICATION,
	SCTP_EOF		= MSG_FIN
};

typedef union {
	uint8_t raw;
	struct sctp_initmsg init;
	struct sctp_sndrcvinfo sndrcv;
} sctp_cmsg_data_t;

/* ========================= notifications ========================= */

/* sn_type values */
enum sctp_sn_type {
	SCTP_SN_TYPE_BASE		= 1 << 15,
	SCTP_DATA_IO_EVENT		= SCTP_SN_TYPE_BASE,
	SCTP_ASSOC_CHANGE,
	SCTP_PEER_ADDR_CHANGE,
	SCTP_SEND_FAILED,
	SCTP_REMOTE_ERROR,
	SCTP_SHUTDOWN_EVENT,
	SCTP_PARTIAL_DELIVERY_EVENT,
	SCTP_ADAPTATION_INDICATION,
	SCTP_AUTHENTICATION_EVENT,
	SCTP_SENDER_DRY_EVENT,
	SCTP_STREAM_RESET_EVENT,
	SCTP_ASSOC_RESET_EVENT,
	SCTP_STREAM_CHANGE_EVENT,
	SCTP_SEND_FAILED_EVENT,
	SCTP_SN_TYPE_MAX		= SCTP_SEND_FAILED_EVENT
};
#define SCTP_DATA_IO_EVENT		SCTP_DATA_IO_EVENT
#define SCTP_ASSOC_CHANGE		SCTP_ASSOC_CHANGE
#define SCTP_PEER_ADDR_CHANGE		SCTP_PEER_ADDR_CHANGE
#define SCTP_SEND_FAILED		SCTP_SEND_FAILED
#define SCTP_REMOTE_ERROR		SCTP_REMOTE_ERROR
#define SCTP_SHUTDOWN_EVENT		SCTP_SHUTDOWN_EVENT
#define SCTP_PARTIAL_DELIVERY_EVENT	SCTP_PARTIAL_DELIVERY_EVENT
#define SCTP_ADAPTATION_INDICATION	SCTP_ADAPTATION_INDICATION
#define SCTP_AUTHENTICATION_INDICATION	SCTP_AUTHENTICATION_EVENT
#define SCTP_SENDER_DRY_EVENT		SCTP_SENDER_DRY_EVENT
#define SCTP_STREAM_RESET_EVENT		SCTP_STREAM_RESET_EVENT
#define SCTP_ASSOC_RESET_EVENT		SCTP_ASSOC_RESET_EVENT
#define SCTP_STREAM_CHANGE_EVENT	SCTP_STREAM_CHANGE_EVENT
#define SCTP_SEND_FAILED_EVENT		SCTP_SEND_FAILED_EVENT
#define SCTP_SN_TYPE_MAX		SCTP_SN_TYPE_MAX

/* Error causes reported in sac_error / spc_error. */
typedef enum sctp_sn_error {
	SCTP_FAILED_THRESHOLD,
	SCTP_RECEIVED_SACK,
	SCTP_HEARTBEAT_SUCCESS,
	SCTP_RESPONSE_TO_USER_REQ,
	SCTP_INTERNAL_ERROR,
	SCTP_SHUTDOWN_GUARD_EXPIRES,
	SCTP_PEER_FAULTY
} sctp_sn_error_t;

/* SCTP_ASSOC_CHANGE */
struct sctp_assoc_change {
	uint16_t sac_type;
	uint16_t sac_flags;
	uint32_t sac_length;
	uint16_t sac_state;
	uint16_t sac_error;
	uint16_t sac_outbound_streams;
	uint16_t sac_inbound_streams;
	sctp_assoc_t sac_assoc_id;
	uint8_t sac_info[];
};

/* sac_state */
enum sctp_sac_state {
	SCTP_COMM_UP,
	SCTP_COMM_LOST,
	SCTP_RESTART,
	SCTP_SHUTDOWN_COMP,
	SCTP_CANT_STR_ASSOC
};

/* SCTP_PEER_ADDR_CHANGE (packed: no padding after the sockaddr) */
struct sctp_paddr_change {
	uint16_t spc_type;
	uint16_t spc_flags;
	uint32_t spc_length;
	struct sockaddr_storage spc_aaddr;
	int spc_state;
	int spc_error;
	sctp_assoc_t spc_assoc_id;
} __attribute__((packed, aligned(4)));

/* spc_state */
enum sctp_spc_state {
	SCTP_ADDR_AVAILABLE,
	SCTP_ADDR_UNREACHABLE,
	SCTP_ADDR_REMOVED,
	SCTP_ADDR_ADDED,
	SCTP_ADDR_MADE_PRIM,
	SCTP_ADDR_CONFIRMED,
	SCTP_ADDR_POTENTIALLY_FAILED
};
#define SCTP_ADDR_PF	SCTP_ADDR_POTENTIALLY_FAILED

/* SCTP_REMOTE_ERROR; sre_error is in network byte order. */
struct sctp_remote_error {
	uint16_t sre_type;
	uint16_t sre_flags;
	uint32_t sre_length;
	uint16_t sre_error;
	sctp_assoc_t sre_assoc_id;
	uint8_t sre_data[];
};

/* SCTP_SEND_FAILED (old style, carries sctp_sndrcvinfo) */
struct sctp_send_failed {
	uint16_t ssf_type;
	uint16_t ssf_flags;
	uint32_t ssf_length;
	uint32_t ssf_error;
	struct sctp_sndrcvinfo ssf_info;
	sctp_assoc_t ssf_assoc_id;
	uint8_t ssf_data[];
};

/* SCTP_SEND_FAILED_EVENT (new style, carries sctp_sndinfo) */
struct sctp_send_failed_event {
	uint16_t ssf_type;
	uint16_t ssf_flags;
	uint32_t ssf_length;
	uint32_t ssf_error;
	struct sctp_sndinfo ssfe_info;
	sctp_assoc_t ssf_assoc_id;
	uint8_t ssf_data[];
};

/* ssf_flags */
enum sctp_ssf_flags {
	SCTP_DATA_UNSENT,
	SCTP_DATA_SENT
};

/* SCTP_SHUTDOWN_EVENT */
struct sctp_shutdown_event {
	uint16_t sse_type;
	uint16_t sse_flags;
	uint32_t sse_length;
	sctp_assoc_t sse_assoc_id;
};

/* SCTP_ADAPTATION_INDICATION */
struct sctp_adaptation_event {
	uint16_t sai_type;
	uint16_t sai_flags;
	uint32_t sai_length;
	uint32_t sai_adaptation_ind;
	sctp_assoc_t sai_assoc_id;
};

/* SCTP_PARTIAL_DELIVERY_EVENT */
struct sctp_pdapi_event {
	uint16_t pdapi_type;
	uint16_t pdapi_flags;
	uint32_t pdapi_length;
	uint32_t pdapi_indication;
	sctp_assoc_t pdapi_assoc_id;
	uint32_t pdapi_stream;
	uint32_t pdapi_seq;
};

/* pdapi_indication */
enum {
	SCTP_PARTIAL_DELIVERY_ABORTED = 0
};

/* SCTP_AUTHENTICATION_EVENT */
struct sctp_authkey_event {
	uint16_t auth_type;
	uint16_t auth_flags;
	uint32_t auth_length;
	uint16_t auth_keynumber;
	uint16_t auth_altkeynumber;
	uint32_t auth_indication;
	sctp_assoc_t auth_assoc_id;
};

/* auth_indication */
enum {
	SCTP_AUTH_NEW_KEY,
	SCTP_AUTH_FREE_KEY,
	SCTP_AUTH_NO_AUTH
};
#define SCTP_AUTH_NEWKEY	SCTP_AUTH_NEW_KEY	/* older spelling */

/* SCTP_SENDER_DRY_EVENT */
struct sctp_sender_dry_event {
	uint16_t sender_dry_type;
	uint16_t sender_dry_flags;
	uint32_t sender_dry_length;
	sctp_assoc_t sender_dry_assoc_id;
};

/* SCTP_STREAM_RESET_EVENT and its strreset_flags */
#define SCTP_STREAM_RESET_INCOMING_SSN	0x0001
#define SCTP_STREAM_RESET_OUTGOING_SSN	0x0002
#define SCTP_STREAM_RESET_DENIED	0x0004
#define SCTP_STREAM_RESET_FAILED	0x0008
struct sctp_stream_reset_event {
	uint16_t strreset_type;
	uint16_t strreset_flags;
	uint32_t strreset_length;
	sctp_assoc_t strreset_assoc_id;
	uint16_t strreset_stream_list[];
};

/* SCTP_ASSOC_RESET_EVENT and its assocreset_flags */
#define SCTP_ASSOC_RESET_DENIED		0x0004
#define SCTP_ASSOC_RESET_FAILED		0x0008
struct sctp_assoc_reset_event {
	uint16_t assocreset_type;
	uint16_t assocreset_flags;
	uint32_t assocreset_length;
	sctp_assoc_t assocreset_assoc_id;
	uint32_t assocreset_local_tsn;
	uint32_t assocreset_remote_tsn;
};

/* SCTP_STREAM_CHANGE_EVENT and its strchange_flags */
#define SCTP_ASSOC_CHANGE_DENIED	0x0004
#define SCTP_ASSOC_CHANGE_FAILED	0x0008
#define SCTP_STREAM_CHANGE_DENIED	SCTP_ASSOC_CHANGE_DENIED
#define SCTP_STREAM_CHANGE_FAILED	SCTP_ASSOC_CHANGE_FAILED
struct sctp_stream_change_event {
	uint16_t strchange_type;
	uint16_t strchange_flags;
	uint32_t strchange_length;
	sctp_assoc_t strchange_assoc_id;
	uint16_t strchange_instrms;
	uint16_t strchange_outstrms;
};

/* SCTP_EVENTS option: one on/off byte per event class. */
struct sctp_event_subscribe {
	uint8_t sctp_data_io_event;
	uint8_t sctp_association_event;
	uint8_t sctp_address_event;
	uint8_t sctp_send_failure_event;
	uint8_t sctp_peer_error_event;
	uint8_t sctp_shutdown_event;
	uint8_t sctp_partial_delivery_event;
	uint8_t sctp_adaptation_layer_event;
	uint8_t sctp_authentication_event;
	uint8_t sctp_sender_dry_event;
	uint8_t sctp_stream_reset_event;
	uint8_t sctp_assoc_reset_event;
	uint8_t sctp_stream_change_event;
	uint8_t sctp_send_failure_event_event;
};

/* What recvmsg() returns when MSG_NOTIFICATION is set. */
union sctp_notification {
	struct {
		uint16_t sn_type;
		uint16_t sn_flags;
		uint32_t sn_length;
	} sn_header;
	struct sctp_assoc_change sn_assoc_change;
	struct sctp_paddr_change sn_paddr_change;
	struct sctp_remote_error sn_remote_error;
	struct sctp_send_failed sn_send_failed;
	struct sctp_shutdown_event sn_shutdown_event;
	struct sctp_adaptation_event sn_adaptation_event;
	struct sctp_pdapi_event sn_pdapi_event;
	struct sctp_authkey_event sn_authkey_event;
	struct sctp_sender_dry_event sn_sender_dry_event;
	struct sctp_stream_reset_event sn_strreset_event;
	struct sctp_assoc_reset_event sn_assocreset_event;
	struct sctp_stream_change_event sn_strchange_event;
	struct sctp_send_failed_event sn_send_failed_event;
};

/* SCTP_EVENT option: switch a single sn_type on or off. */
struct sctp_event {
	sctp_assoc_t se_assoc_id;
	uint16_t se_type;
	uint8_t se_on;
};

/* ======================== option payloads ======================== */

/* SCTP_RTOINFO (milliseconds) */
struct sctp_rtoinfo {
	sctp_assoc_t srto_assoc_id;
	uint32_t srto_initial;
	uint32_t srto_max;
	uint32_t srto_min;
};

/* SCTP_ASSOCINFO */
struct sctp_assocparams {
	sctp_assoc_t sasoc_assoc_id;
	uint16_t sasoc_asocmaxrxt;
	uint16_t sasoc_number_peer_destinations;
	uint32_t sasoc_peer_rwnd;
	uint32_t sasoc_local_rwnd;
	uint32_t sasoc_cookie_life;
};

/* SCTP_SET_PEER_PRIMARY_ADDR */
struct sctp_setpeerprim {
	sctp_assoc_t sspp_assoc_id;
	struct sockaddr_storage sspp_addr;
} __attribute__((packed, aligned(4)));

/* SCTP_PRIMARY_ADDR */
struct sctp_prim {
	sctp_assoc_t ssp_assoc_id;
	struct sockaddr_storage ssp_addr;
} __attribute__((packed, aligned(4)));
#define sctp_setprim	sctp_prim	/* historical name */

/* SCTP_ADAPTATION_LAYER */
struct sctp_setadaptation {
	uint32_t ssb_adaptation_ind;
};

/* spp_flags for SCTP_PEER_ADDR_PARAMS */
enum sctp_spp_flags {
	SPP_HB_ENABLE		= 1 << 0,
	SPP_HB_DISABLE		= 1 << 1,
	SPP_HB			= SPP_HB_ENABLE | SPP_HB_DISABLE,
	SPP_HB_DEMAND		= 1 << 2,
	SPP_PMTUD_ENABLE	= 1 << 3,
	SPP_PMTUD_DISABLE	= 1 << 4,
	SPP_PMTUD		= SPP_PMTUD_ENABLE | SPP_PMTUD_DISABLE,
	SPP_SACKDELAY_ENABLE	= 1 << 5,
	SPP_SACKDELAY_DISABLE	= 1 << 6,
	SPP_SACKDELAY		= SPP_SACKDELAY_ENABLE | SPP_SACKDELAY_DISABLE,
	SPP_HB_TIME_IS_ZERO	= 1 << 7,
	SPP_IPV6_FLOWLABEL	= 1 << 8,
	SPP_DSCP		= 1 << 9
};

/* SCTP_PEER_ADDR_PARAMS (packed: spp_pathmtu follows a u16 directly) */
struct sctp_paddrparams {
	sctp_assoc_t spp_assoc_id;
	struct sockaddr_storage spp_address;
	uint32_t spp_hbinterval;
	uint16_t spp_pathmaxrxt;
	uint32_t spp_pathmtu;
	uint32_t spp_sackdelay;
	uint32_t spp_flags;
	uint32_t spp_ipv6_flowlabel;
	uint8_t spp_dscp;
} __attribute__((packed, aligned(4)));

/* SCTP_AUTH_CHUNK */
struct sctp_authchunk {
	uint8_t sauth_chunk;
};

/* HMAC identifiers for SCTP_HMAC_IDENT */
enum {
	SCTP_AUTH_HMAC_ID_SHA1 = 1,
	SCTP_AUTH_HMAC_ID_SHA256 = 3
};

/* SCTP_HMAC_IDENT */
struct sctp_hmacalgo {
	uint32_t shmac_num_idents;
	uint16_t shmac_idents[];
};
#define shmac_number_of_idents	shmac_num_idents	/* lksctp spelling */

/* SCTP_AUTH_KEY */
struct sctp_authkey {
	sctp_assoc_t sca_assoc_id;
	uint16_t sca_keynumber;
	uint16_t sca_keylength;
	uint8_t sca_key[];
};

/* SCTP_AUTH_ACTIVE_KEY, SCTP_AUTH_DELETE_KEY, SCTP_AUTH_DEACTIVATE_KEY */
struct sctp_authkeyid {
	sctp_assoc_t scact_assoc_id;
	uint16_t scact_keynumber;
};

/* SCTP_DELAYED_SACK */
struct sctp_sack_info {
	sctp_assoc_t sack_assoc_id;
	uint32_t sack_delay;
	uint32_t sack_freq;
};

/* Generic (assoc, value) pair used by many options. */
struct sctp_assoc_value {
	sctp_assoc_t assoc_id;
	uint32_t assoc_value;
};

/* Generic (assoc, stream, value) triple, e.g. SCTP_STREAM_SCHEDULER_VALUE. */
struct sctp_stream_value {
	sctp_assoc_t assoc_id;
	uint16_t stream_id;
	uint16_t stream_value;
};

/* SCTP_GET_PEER_ADDR_INFO */
struct sctp_paddrinfo {
	sctp_assoc_t spinfo_assoc_id;
	struct sockaddr_storage spinfo_address;
	int32_t spinfo_state;
	uint32_t spinfo_cwnd;
	uint32_t spinfo_srtt;
	uint32_t spinfo_rto;
	uint32_t spinfo_mtu;
} __attribute__((packed, aligned(4)));

/* spinfo_state */
enum sctp_spinfo_state {
	SCTP_INACTIVE,
	SCTP_PF,
	SCTP_ACTIVE,
	SCTP_UNCONFIRMED,
	SCTP_UNKNOWN = 0xffff
};
#define SCTP_POTENTIALLY_FAILED	SCTP_PF

/* SCTP_STATUS */
struct sctp_status {
	sctp_assoc_t sstat_assoc_id;
	int32_t sstat_state;
	uint32_t sstat_rwnd;
	uint16_t sstat_unackdata;
	uint16_t sstat_penddata;
	uint16_t sstat_instrms;
	uint16_t sstat_outstrms;
	uint32_t sstat_fragmentation_point;
	struct sctp_paddrinfo sstat_primary;
};

/* SCTP_PEER_AUTH_CHUNKS, SCTP_LOCAL_AUTH_CHUNKS */
struct sctp_authchunks {
	sctp_assoc_t gauth_assoc_id;
	uint32_t gauth_number_of_chunks;
	uint8_t gauth_chunks[];
};
#define guth_number_of_chunks	gauth_number_of_chunks	/* old misspelling */

/* sstat_state */
enum sctp_sstat_state {
	SCTP_EMPTY		= 0,
	SCTP_CLOSED		= 1,
	SCTP_COOKIE_WAIT	= 2,
	SCTP_COOKIE_ECHOED	= 3,
	SCTP_ESTABLISHED	= 4,
	SCTP_SHUTDOWN_PENDING	= 5,
	SCTP_SHUTDOWN_SENT	= 6,
	SCTP_SHUTDOWN_RECEIVED	= 7,
	SCTP_SHUTDOWN_ACK_SENT	= 8
};

/* SCTP_GET_ASSOC_ID_LIST */
struct sctp_assoc_ids {
	uint32_t gaids_number_of_ids;
	sctp_assoc_t gaids_assoc_id[];
};

/* Legacy SCTP_GET_PEER_ADDRS/LOCAL_ADDRS argument (pointer based). */
struct sctp_getaddrs_old {
	sctp_assoc_t assoc_id;
	int addr_num;
	struct sockaddr *addrs;
};

/* SCTP_GET_PEER_ADDRS / SCTP_GET_LOCAL_ADDRS: packed sockaddrs follow. */
struct sctp_getaddrs {
	sctp_assoc_t assoc_id;
	uint32_t addr_num;
	uint8_t addrs[];
};

/* SCTP_GET_ASSOC_STATS */
struct sctp_assoc_stats {
	sctp_assoc_t sas_assoc_id;
	struct sockaddr_storage sas_obs_rto_ipaddr;
	__SCTPSHIM_U64 sas_maxrto;
	__SCTPSHIM_U64 sas_isacks;
	__SCTPSHIM_U64 sas_osacks;
	__SCTPSHIM_U64 sas_opackets;
	__SCTPSHIM_U64 sas_ipackets;
	__SCTPSHIM_U64 sas_rtxchunks;
	__SCTPSHIM_U64 sas_outofseqtsns;
	__SCTPSHIM_U64 sas_idupchunks;
	__SCTPSHIM_U64 sas_gapcnt;
	__SCTPSHIM_U64 sas_ouodchunks;
	__SCTPSHIM_U64 sas_iuodchunks;
	__SCTPSHIM_U64 sas_oodchunks;
	__SCTPSHIM_U64 sas_iodchunks;
	__SCTPSHIM_U64 sas_octrlchunks;
	__SCTPSHIM_U64 sas_ictrlchunks;
};

/* sctp_bindx() flags */
#define SCTP_BINDX_ADD_ADDR	0x01
#define SCTP_BINDX_REM_ADDR	0x02

/* SCTP_SOCKOPT_PEELOFF argument */
typedef struct {
	sctp_assoc_t associd;
	int sd;
} sctp_peeloff_arg_t;

/* SCTP_SOCKOPT_PEELOFF_FLAGS argument (flags: e.g. SOCK_CLOEXEC) */
typedef struct {
	sctp_peeloff_arg_t p_arg;
	unsigned flags;
} sctp_peeloff_flags_arg_t;

/* SCTP_PEER_ADDR_THLDS */
struct sctp_paddrthlds {
	sctp_assoc_t spt_assoc_id;
	struct sockaddr_storage spt_address;
	uint16_t spt_pathmaxrxt;
	uint16_t spt_pathpfthld;
};

/* SCTP_PEER_ADDR_THLDS_V2: adds the primary-path switchover threshold. */
struct sctp_paddrthlds_v2 {
	sctp_assoc_t spt_assoc_id;
	struct sockaddr_storage spt_address;
	uint16_t spt_pathmaxrxt;
	uint16_t spt_pathpfthld;
	uint16_t spt_pathcpthld;
};

/* SCTP_PR_ASSOC_STATUS, SCTP_PR_STREAM_STATUS */
struct sctp_prstatus {
	sctp_assoc_t sprstat_assoc_id;
	uint16_t sprstat_sid;
	uint16_t sprstat_policy;
	__SCTPSHIM_U64 sprstat_abandoned_unsent;
	__SCTPSHIM_U64 sprstat_abandoned_sent;
};

/* SCTP_DEFAULT_PRINFO */
struct sctp_default_prinfo {
	sctp_assoc_t pr_assoc_id;
	uint32_t pr_value;
	uint16_t pr_policy;
};

/* Association snapshot reported through the inet_diag interface. */
struct sctp_info {
	uint32_t sctpi_tag;
	uint32_t sctpi_state;
	uint32_t sctpi_rwnd;
	uint16_t sctpi_unackdata;
	uint16_t sctpi_penddata;
	uint16_t sctpi_instrms;
	uint16_t sctpi_outstrms;
	uint32_t sctpi_fragmentation_point;
	uint32_t sctpi_inqueue;
	uint32_t sctpi_outqueue;
	uint32_t sctpi_overall_error;
	uint32_t sctpi_max_burst;
	uint32_t sctpi_maxseg;
	uint32_t sctpi_peer_rwnd;
	uint32_t sctpi_peer_tag;
	uint8_t sctpi_peer_capable;
	uint8_t sctpi_peer_sack;
	uint16_t __reserved1;

	/* association counters */
	__SCTPSHIM_U64 sctpi_isacks;
	__SCTPSHIM_U64 sctpi_osacks;
	__SCTPSHIM_U64 sctpi_opackets;
	__SCTPSHIM_U64 sctpi_ipackets;
	__SCTPSHIM_U64 sctpi_rtxchunks;
	__SCTPSHIM_U64 sctpi_outofseqtsns;
	__SCTPSHIM_U64 sctpi_idupchunks;
	__SCTPSHIM_U64 sctpi_gapcnt;
	__SCTPSHIM_U64 sctpi_ouodchunks;
	__SCTPSHIM_U64 sctpi_iuodchunks;
	__SCTPSHIM_U64 sctpi_oodchunks;
	__SCTPSHIM_U64 sctpi_iodchunks;
	__SCTPSHIM_U64 sctpi_octrlchunks;
	__SCTPSHIM_U64 sctpi_ictrlchunks;

	/* primary path */
	struct sockaddr_storage sctpi_p_address;
	int32_t sctpi_p_state;
	uint32_t sctpi_p_cwnd;
	uint32_t sctpi_p_srtt;
	uint32_t sctpi_p_rto;
	uint32_t sctpi_p_hbinterval;
	uint32_t sctpi_p_pathmaxrxt;
	uint32_t sctpi_p_sackdelay;
	uint32_t sctpi_p_sackfreq;
	uint32_t sctpi_p_ssthresh;
	uint32_t sctpi_p_partial_bytes_acked;
	uint32_t sctpi_p_flight_size;
	uint16_t sctpi_p_error;
	uint16_t __reserved2;

	/* socket settings */
	uint32_t sctpi_s_autoclose;
	uint32_t sctpi_s_adaptation_ind;
	uint32_t sctpi_s_pd_point;
	uint8_t sctpi_s_nodelay;
	uint8_t sctpi_s_disable_fragments;
	uint8_t sctpi_s_v4mapped;
	uint8_t sctpi_s_frag_interleave;
	uint32_t sctpi_s_type;
	uint32_t __reserved3;
};

/* SCTP_RESET_STREAMS; srs_number_streams == 0 means every stream. */
struct sctp_reset_streams {
	sctp_assoc_t srs_assoc_id;
	uint16_t srs_flags;
	uint16_t srs_number_streams;
	uint16_t srs_stream_list[];
};

/* SCTP_ADD_STREAMS */
struct sctp_add_streams {
	sctp_assoc_t sas_assoc_id;
	uint16_t sas_instrms;
	uint16_t sas_outstrms;
};

/* SCTP_REMOTE_UDP_ENCAPS_PORT */
struct sctp_udpencaps {
	sctp_assoc_t sue_assoc_id;
	struct sockaddr_storage sue_address;
	uint16_t sue_port;
};

/* Values for SCTP_STREAM_SCHEDULER (FC and WFQ exist since Linux 6.2). */
enum sctp_sched_type {
	SCTP_SS_FCFS,
	SCTP_SS_DEFAULT = SCTP_SS_FCFS,
	SCTP_SS_PRIO,
	SCTP_SS_RR,
	SCTP_SS_FC,
	SCTP_SS_WFQ,
	SCTP_SS_MAX = SCTP_SS_WFQ
};

/* SCTP_PLPMTUD_PROBE_INTERVAL */
struct sctp_probeinterval {
	sctp_assoc_t spi_assoc_id;
	struct sockaddr_storage spi_address;
	uint32_t spi_interval;
};

#ifdef __cplusplus
}
#endif

#endif /* !_SCTP_H && !_UAPI_SCTP_H */

#undef __SCTPSHIM_U64

/* ===================================================================
 * Part 2: what lksctp-tools adds on top of the kernel header.
 * =================================================================== */

#ifdef __cplusplus
extern "C" {
#endif

#ifndef SOL_SCTP
#define SOL_SCTP	132
#endif

#ifndef IPPROTO_SCTP
#define IPPROTO_SCTP	132
#endif

/* Feature test macros, with the same spellings and values as lksctp. */
#define HAVE_SCTP
#define HAVE_KERNEL_SCTP
#define HAVE_SCTP_MULTIBUF
#define HAVE_SCTP_NOCONNECT
#define HAVE_SCTP_PRSCTP
#define HAVE_SCTP_ADDIP
#define HAVE_SCTP_CANSET_PRIMARY

#define HAVE_SCTP_STREAM_RESET_EVENT		1
#define HAVE_SCTP_STREAM_RECONFIG		1
#define HAVE_SCTP_PEELOFF_FLAGS			1
#define HAVE_SCTP_PDAPI_EVENT_PDAPI_STREAM	1
#define HAVE_SCTP_PDAPI_EVENT_PDAPI_SEQ		1
#define HAVE_SCTP_SENDV				1
#define HAVE_SCTP_AUTH_NO_AUTH			1
#define HAVE_SCTP_SPP_IPV6_FLOWLABEL		1
#define HAVE_SCTP_SPP_DSCP			1

/* infotype argument of sctp_sendv() */
enum {
	SCTP_SENDV_NOINFO,
	SCTP_SENDV_SNDINFO,
	SCTP_SENDV_PRINFO,
	SCTP_SENDV_AUTHINFO,
	SCTP_SENDV_SPA
};

/* sendv_flags: which members of sctp_sendv_spa are meaningful */
#define SCTP_SEND_SNDINFO_VALID		0x1
#define SCTP_SEND_PRINFO_VALID		0x2
#define SCTP_SEND_AUTHINFO_VALID	0x4

/* info for infotype SCTP_SENDV_SPA */
struct sctp_sendv_spa {
	uint32_t sendv_flags;
	struct sctp_sndinfo sendv_sndinfo;
	struct sctp_prinfo sendv_prinfo;
	struct sctp_authinfo sendv_authinfo;
};

/* infotype result of sctp_recvv() */
enum {
	SCTP_RECVV_NOINFO,
	SCTP_RECVV_RCVINFO,
	SCTP_RECVV_NXTINFO,
	SCTP_RECVV_RN
};

/* info for infotype SCTP_RECVV_RN */
struct sctp_recvv_rn {
	struct sctp_rcvinfo recvv_rcvinfo;
	struct sctp_nxtinfo recvv_nxtinfo;
};

/* ---- library entry points (RFC 6458 section 9) ---- */
int sctp_bindx(int sd, struct sockaddr *addrs, int addrcnt, int flags);
int sctp_connectx(int sd, struct sockaddr *addrs, int addrcnt,
		  sctp_assoc_t *id);
int sctp_peeloff(int sd, sctp_assoc_t assoc_id);
int sctp_peeloff_flags(int sd, sctp_assoc_t assoc_id, unsigned flags);
int sctp_opt_info(int sd, sctp_assoc_t id, int opt, void *arg,
		  socklen_t *size);
int sctp_getpaddrs(int sd, sctp_assoc_t id, struct sockaddr **addrs);
int sctp_freepaddrs(struct sockaddr *addrs);
int sctp_getladdrs(int sd, sctp_assoc_t id, struct sockaddr **addrs);
int sctp_freeladdrs(struct sockaddr *addrs);
int sctp_sendmsg(int s, const void *msg, size_t len, struct sockaddr *to,
		 socklen_t tolen, uint32_t ppid, uint32_t flags,
		 uint16_t stream_no, uint32_t timetolive, uint32_t context);
int sctp_send(int s, const void *msg, size_t len,
	      const struct sctp_sndrcvinfo *sinfo, int flags);
int sctp_recvmsg(int s, void *msg, size_t len, struct sockaddr *from,
		 socklen_t *fromlen, struct sctp_sndrcvinfo *sinfo,
		 int *msg_flags);
int sctp_getaddrlen(sa_family_t family);
int sctp_sendv(int s, const struct iovec *iov, int iovcnt,
	       struct sockaddr *addrs, int addrcnt, void *info,
	       socklen_t infolen, unsigned int infotype, int flags);
int sctp_recvv(int s, const struct iovec *iov, int iovlen,
	       struct sockaddr *from, socklen_t *fromlen, void *info,
	       socklen_t *infolen, unsigned int *infotype, int *flags);

#ifdef __cplusplus
}
#endif

#endif /* __linux_sctp_h__ */
