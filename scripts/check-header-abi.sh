#!/usr/bin/env bash
# Proves include/netinet/sctp.h is ABI-identical to lksctp-tools'
# <netinet/sctp.h> (+ the kernel's <linux/sctp.h>).
#
# 1. Standalone checks (need no libsctp-dev): the header compiles on its
#    own with -Wall -Wextra -Werror as gnu11 C and as C++17, without ever
#    reading <linux/sctp.h> (a poisoned copy sits on the include path),
#    and it mixes with <linux/sctp.h> included before or after it.
# 2. ABI comparison: one generated C program prints sizeof/alignof of
#    every type, offsetof/sizeof/type of every field, the value, type and
#    macro-ness of every constant and the signature match of every library
#    function.  It is built once against our header and once against the
#    system header; the two outputs must be identical.
#    Skipped (exit 0) when /usr/include/netinet/sctp.h is absent.
# 3. If libsctp.so is installed, a C++ program using our header links
#    against it and calls sctp_getaddrlen() (checks extern "C").
#
# Exit 0 when everything matches, 1 otherwise (with the diff).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
hdr="$root/include/netinet/sctp.h"
CC=${CC:-gcc}
CXX=${CXX:-g++}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fail() { echo "check-header-abi: FAIL: $*" >&2; exit 1; }

[ -f "$hdr" ] || fail "$hdr missing"

# A linux/sctp.h that must never be read when only our header is asked for.
mkdir -p "$work/poison/linux"
echo '#error "linux/sctp.h must not be needed by include/netinet/sctp.h"' \
    >"$work/poison/linux/sctp.h"

# ---------------------------------------------------------------------------
# 1. Standalone compile checks
# ---------------------------------------------------------------------------
cat >"$work/standalone.c" <<'EOF'
#include <netinet/sctp.h>
#include <netinet/in.h>   /* after ours: must not clash on IPPROTO_SCTP */
#include <stddef.h>
#ifndef SCTPSHIM_NETINET_SCTP_H
#error "picked up a netinet/sctp.h that is not ours"
#endif
int use_header(int fd);
int use_header(int fd)
{
	struct sctp_sndrcvinfo sri;
	struct sctp_event_subscribe ev;
	struct sctp_sendv_spa spa;
	union sctp_notification *n;
	char buf[sizeof(union sctp_notification) + 64];
	sctp_assoc_t id = 0;
	unsigned short flags = 0;

	sri.sinfo_flags = SCTP_UNORDERED | SCTP_EOF;
	SCTP_PR_SET_POLICY(flags, SCTP_PR_SCTP_TTL);
	ev.sctp_data_io_event = 1;
	spa.sendv_flags = SCTP_SEND_SNDINFO_VALID;
	buf[0] = 0;
	n = (union sctp_notification *)(void *)buf;
	(void)sri; (void)ev; (void)spa; (void)n;
	return sctp_opt_info(fd, id, SCTP_STATUS, buf, NULL) +
	       (int)offsetof(struct sctp_paddrparams, spp_flags) +
	       SCTP_PR_INDEX(RTX) + (int)flags + IPPROTO_SCTP + SOL_SCTP +
	       MSG_NOTIFICATION + SCTP_SN_TYPE_MAX + SCTP_PLPMTUD_PROBE_INTERVAL;
}
EOF
cp "$work/standalone.c" "$work/standalone.cc"
# mixing with the kernel header, in both orders (the kernel header is not
# self-contained in user space: it wants <stdint.h> and <sys/socket.h>)
printf '#include <stdint.h>\n#include <sys/socket.h>\n#include <linux/sctp.h>\n#include <netinet/sctp.h>\n#include "%s"\n' \
    "$work/standalone.c" >"$work/kernel_first.c"
printf '#include <netinet/sctp.h>\n#include <linux/sctp.h>\n#include "%s"\n' \
    "$work/standalone.c" >"$work/kernel_after.c"

wflags=(-Wall -Wextra -Werror)
echo "== standalone: C gnu11 and C++17, -Wall -Wextra -Werror, linux/sctp.h poisoned"
"$CC" -std=gnu11 "${wflags[@]}" -I"$root/include" -I"$work/poison" \
    -c "$work/standalone.c" -o "$work/standalone.o" || fail "C standalone compile"
"$CXX" -std=c++17 "${wflags[@]}" -I"$root/include" -I"$work/poison" \
    -c "$work/standalone.cc" -o "$work/standalone_cc.o" || fail "C++ standalone compile"
echo "   ok"
if [ -f /usr/include/linux/sctp.h ]; then
    echo "== mixing with <linux/sctp.h> (before and after ours), C and C++"
    for f in kernel_first kernel_after; do
        "$CC" -std=gnu11 "${wflags[@]}" -I"$root/include" \
            -c "$work/$f.c" -o "$work/$f.o" || fail "C $f"
        "$CXX" -x c++ -std=c++17 "${wflags[@]}" -I"$root/include" \
            -c "$work/$f.c" -o "$work/${f}_cc.o" || fail "C++ $f"
    done
    echo "   ok"
fi

# ---------------------------------------------------------------------------
# 2. ABI comparison against the system header
# ---------------------------------------------------------------------------
if [ ! -f /usr/include/netinet/sctp.h ]; then
    echo "system header not installed, skipped"
    exit 0
fi

# What is compared.  Line kinds:
#   T <type>                    sizeof + alignof (+ signedness for scalars)
#   S <type> : f1 f2 g[] ...    sizeof/alignof of the type, and offsetof,
#                               sizeof and scalar type of each field;
#                               "g[]" is a flexible array (element size)
#   C NAME ...                  value, type, and whether it is a #define
#   D NAME ...                  a #define whose expansion text is compared
#                               (the HAVE_SCTP_* feature macros)
#   X expression                value of an arbitrary integer expression
#   K NAME=value ...            Linux >= 6.2 additions: compared with the
#                               system header if it has them, otherwise
#                               checked against the listed value
cat >"$work/spec.txt" <<'EOF'
T sctp_assoc_t
T sctp_cmsg_t
T sctp_sn_error_t
T enum sctp_msg_flags
T enum sctp_cmsg_type
T enum sctp_sinfo_flags
T enum sctp_sn_type
T enum sctp_sn_error
T enum sctp_sac_state
T enum sctp_spc_state
T enum sctp_ssf_flags
T enum sctp_spp_flags
T enum sctp_spinfo_state
T enum sctp_sstat_state
T enum sctp_sched_type

S struct sctp_initmsg : sinit_num_ostreams sinit_max_instreams sinit_max_attempts sinit_max_init_timeo
S struct sctp_sndrcvinfo : sinfo_stream sinfo_ssn sinfo_flags sinfo_ppid sinfo_context sinfo_timetolive sinfo_tsn sinfo_cumtsn sinfo_assoc_id
S struct sctp_sndinfo : snd_sid snd_flags snd_ppid snd_context snd_assoc_id
S struct sctp_rcvinfo : rcv_sid rcv_ssn rcv_flags rcv_ppid rcv_tsn rcv_cumtsn rcv_context rcv_assoc_id
S struct sctp_nxtinfo : nxt_sid nxt_flags nxt_ppid nxt_length nxt_assoc_id
S struct sctp_prinfo : pr_policy pr_value
S struct sctp_authinfo : auth_keynumber
S sctp_cmsg_data_t : raw init sndrcv

S struct sctp_assoc_change : sac_type sac_flags sac_length sac_state sac_error sac_outbound_streams sac_inbound_streams sac_assoc_id sac_info[]
S struct sctp_paddr_change : spc_type spc_flags spc_length spc_aaddr spc_state spc_error spc_assoc_id
S struct sctp_remote_error : sre_type sre_flags sre_length sre_error sre_assoc_id sre_data[]
S struct sctp_send_failed : ssf_type ssf_flags ssf_length ssf_error ssf_info ssf_assoc_id ssf_data[]
S struct sctp_send_failed_event : ssf_type ssf_flags ssf_length ssf_error ssfe_info ssf_assoc_id ssf_data[]
S struct sctp_shutdown_event : sse_type sse_flags sse_length sse_assoc_id
S struct sctp_adaptation_event : sai_type sai_flags sai_length sai_adaptation_ind sai_assoc_id
S struct sctp_pdapi_event : pdapi_type pdapi_flags pdapi_length pdapi_indication pdapi_assoc_id pdapi_stream pdapi_seq
S struct sctp_authkey_event : auth_type auth_flags auth_length auth_keynumber auth_altkeynumber auth_indication auth_assoc_id
S struct sctp_sender_dry_event : sender_dry_type sender_dry_flags sender_dry_length sender_dry_assoc_id
S struct sctp_stream_reset_event : strreset_type strreset_flags strreset_length strreset_assoc_id strreset_stream_list[]
S struct sctp_assoc_reset_event : assocreset_type assocreset_flags assocreset_length assocreset_assoc_id assocreset_local_tsn assocreset_remote_tsn
S struct sctp_stream_change_event : strchange_type strchange_flags strchange_length strchange_assoc_id strchange_instrms strchange_outstrms
S struct sctp_event_subscribe : sctp_data_io_event sctp_association_event sctp_address_event sctp_send_failure_event sctp_peer_error_event sctp_shutdown_event sctp_partial_delivery_event sctp_adaptation_layer_event sctp_authentication_event sctp_sender_dry_event sctp_stream_reset_event sctp_assoc_reset_event sctp_stream_change_event sctp_send_failure_event_event
S union sctp_notification : sn_header sn_header.sn_type sn_header.sn_flags sn_header.sn_length sn_assoc_change sn_paddr_change sn_remote_error sn_send_failed sn_shutdown_event sn_adaptation_event sn_pdapi_event sn_authkey_event sn_sender_dry_event sn_strreset_event sn_assocreset_event sn_strchange_event sn_send_failed_event
S struct sctp_event : se_assoc_id se_type se_on

S struct sctp_rtoinfo : srto_assoc_id srto_initial srto_max srto_min
S struct sctp_assocparams : sasoc_assoc_id sasoc_asocmaxrxt sasoc_number_peer_destinations sasoc_peer_rwnd sasoc_local_rwnd sasoc_cookie_life
S struct sctp_setpeerprim : sspp_assoc_id sspp_addr
S struct sctp_prim : ssp_assoc_id ssp_addr
S struct sctp_setprim : ssp_assoc_id ssp_addr
S struct sctp_setadaptation : ssb_adaptation_ind
S struct sctp_paddrparams : spp_assoc_id spp_address spp_hbinterval spp_pathmaxrxt spp_pathmtu spp_sackdelay spp_flags spp_ipv6_flowlabel spp_dscp
S struct sctp_authchunk : sauth_chunk
S struct sctp_hmacalgo : shmac_num_idents shmac_number_of_idents shmac_idents[]
S struct sctp_authkey : sca_assoc_id sca_keynumber sca_keylength sca_key[]
S struct sctp_authkeyid : scact_assoc_id scact_keynumber
S struct sctp_sack_info : sack_assoc_id sack_delay sack_freq
S struct sctp_assoc_value : assoc_id assoc_value
S struct sctp_stream_value : assoc_id stream_id stream_value
S struct sctp_paddrinfo : spinfo_assoc_id spinfo_address spinfo_state spinfo_cwnd spinfo_srtt spinfo_rto spinfo_mtu
S struct sctp_status : sstat_assoc_id sstat_state sstat_rwnd sstat_unackdata sstat_penddata sstat_instrms sstat_outstrms sstat_fragmentation_point sstat_primary sstat_primary.spinfo_mtu
S struct sctp_authchunks : gauth_assoc_id gauth_number_of_chunks guth_number_of_chunks gauth_chunks[]
S struct sctp_assoc_ids : gaids_number_of_ids gaids_assoc_id[]
S struct sctp_getaddrs_old : assoc_id addr_num addrs
S struct sctp_getaddrs : assoc_id addr_num addrs[]
S struct sctp_assoc_stats : sas_assoc_id sas_obs_rto_ipaddr sas_maxrto sas_isacks sas_osacks sas_opackets sas_ipackets sas_rtxchunks sas_outofseqtsns sas_idupchunks sas_gapcnt sas_ouodchunks sas_iuodchunks sas_oodchunks sas_iodchunks sas_octrlchunks sas_ictrlchunks
S sctp_peeloff_arg_t : associd sd
S sctp_peeloff_flags_arg_t : p_arg p_arg.associd p_arg.sd flags
S struct sctp_paddrthlds : spt_assoc_id spt_address spt_pathmaxrxt spt_pathpfthld
S struct sctp_paddrthlds_v2 : spt_assoc_id spt_address spt_pathmaxrxt spt_pathpfthld spt_pathcpthld
S struct sctp_prstatus : sprstat_assoc_id sprstat_sid sprstat_policy sprstat_abandoned_unsent sprstat_abandoned_sent
S struct sctp_default_prinfo : pr_assoc_id pr_value pr_policy
S struct sctp_info : sctpi_tag sctpi_state sctpi_rwnd sctpi_unackdata sctpi_penddata sctpi_instrms sctpi_outstrms sctpi_fragmentation_point sctpi_inqueue sctpi_outqueue sctpi_overall_error sctpi_max_burst sctpi_maxseg sctpi_peer_rwnd sctpi_peer_tag sctpi_peer_capable sctpi_peer_sack __reserved1 sctpi_isacks sctpi_osacks sctpi_opackets sctpi_ipackets sctpi_rtxchunks sctpi_outofseqtsns sctpi_idupchunks sctpi_gapcnt sctpi_ouodchunks sctpi_iuodchunks sctpi_oodchunks sctpi_iodchunks sctpi_octrlchunks sctpi_ictrlchunks sctpi_p_address sctpi_p_state sctpi_p_cwnd sctpi_p_srtt sctpi_p_rto sctpi_p_hbinterval sctpi_p_pathmaxrxt sctpi_p_sackdelay sctpi_p_sackfreq sctpi_p_ssthresh sctpi_p_partial_bytes_acked sctpi_p_flight_size sctpi_p_error __reserved2 sctpi_s_autoclose sctpi_s_adaptation_ind sctpi_s_pd_point sctpi_s_nodelay sctpi_s_disable_fragments sctpi_s_v4mapped sctpi_s_frag_interleave sctpi_s_type __reserved3
S struct sctp_reset_streams : srs_assoc_id srs_flags srs_number_streams srs_stream_list[]
S struct sctp_add_streams : sas_assoc_id sas_instrms sas_outstrms
S struct sctp_udpencaps : sue_assoc_id sue_address sue_port
S struct sctp_probeinterval : spi_assoc_id spi_address spi_interval
S struct sctp_sendv_spa : sendv_flags sendv_sndinfo sendv_prinfo sendv_authinfo
S struct sctp_recvv_rn : recvv_rcvinfo recvv_nxtinfo

C SCTP_FUTURE_ASSOC SCTP_CURRENT_ASSOC SCTP_ALL_ASSOC
C SCTP_RTOINFO SCTP_ASSOCINFO SCTP_INITMSG SCTP_NODELAY SCTP_AUTOCLOSE SCTP_SET_PEER_PRIMARY_ADDR SCTP_PRIMARY_ADDR SCTP_ADAPTATION_LAYER SCTP_DISABLE_FRAGMENTS SCTP_PEER_ADDR_PARAMS
C SCTP_DEFAULT_SEND_PARAM SCTP_EVENTS SCTP_I_WANT_MAPPED_V4_ADDR SCTP_MAXSEG SCTP_STATUS SCTP_GET_PEER_ADDR_INFO SCTP_DELAYED_ACK_TIME SCTP_DELAYED_ACK SCTP_DELAYED_SACK SCTP_CONTEXT
C SCTP_FRAGMENT_INTERLEAVE SCTP_PARTIAL_DELIVERY_POINT SCTP_MAX_BURST SCTP_AUTH_CHUNK SCTP_HMAC_IDENT SCTP_AUTH_KEY SCTP_AUTH_ACTIVE_KEY SCTP_AUTH_DELETE_KEY SCTP_PEER_AUTH_CHUNKS SCTP_LOCAL_AUTH_CHUNKS
C SCTP_GET_ASSOC_NUMBER SCTP_GET_ASSOC_ID_LIST SCTP_AUTO_ASCONF SCTP_PEER_ADDR_THLDS SCTP_RECVRCVINFO SCTP_RECVNXTINFO SCTP_DEFAULT_SNDINFO SCTP_AUTH_DEACTIVATE_KEY SCTP_REUSE_PORT SCTP_PEER_ADDR_THLDS_V2
C SCTP_SOCKOPT_BINDX_ADD SCTP_SOCKOPT_BINDX_REM SCTP_SOCKOPT_PEELOFF SCTP_SOCKOPT_CONNECTX_OLD SCTP_GET_PEER_ADDRS SCTP_GET_LOCAL_ADDRS SCTP_SOCKOPT_CONNECTX SCTP_SOCKOPT_CONNECTX3 SCTP_GET_ASSOC_STATS
C SCTP_PR_SUPPORTED SCTP_DEFAULT_PRINFO SCTP_PR_ASSOC_STATUS SCTP_PR_STREAM_STATUS SCTP_RECONFIG_SUPPORTED SCTP_ENABLE_STREAM_RESET SCTP_RESET_STREAMS SCTP_RESET_ASSOC SCTP_ADD_STREAMS SCTP_SOCKOPT_PEELOFF_FLAGS
C SCTP_STREAM_SCHEDULER SCTP_STREAM_SCHEDULER_VALUE SCTP_INTERLEAVING_SUPPORTED SCTP_SENDMSG_CONNECT SCTP_EVENT SCTP_ASCONF_SUPPORTED SCTP_AUTH_SUPPORTED SCTP_ECN_SUPPORTED
C SCTP_EXPOSE_POTENTIALLY_FAILED_STATE SCTP_EXPOSE_PF_STATE SCTP_REMOTE_UDP_ENCAPS_PORT SCTP_PLPMTUD_PROBE_INTERVAL
C SCTP_PR_SCTP_NONE SCTP_PR_SCTP_TTL SCTP_PR_SCTP_RTX SCTP_PR_SCTP_PRIO SCTP_PR_SCTP_MAX SCTP_PR_SCTP_MASK
C SCTP_ENABLE_RESET_STREAM_REQ SCTP_ENABLE_RESET_ASSOC_REQ SCTP_ENABLE_CHANGE_ASSOC_REQ SCTP_ENABLE_STRRESET_MASK SCTP_STREAM_RESET_INCOMING SCTP_STREAM_RESET_OUTGOING
C MSG_NOTIFICATION
C SCTP_UNORDERED SCTP_ADDR_OVER SCTP_ABORT SCTP_SACK_IMMEDIATELY SCTP_SENDALL SCTP_PR_SCTP_ALL SCTP_NOTIFICATION SCTP_EOF
C SCTP_INIT SCTP_SNDRCV SCTP_SNDINFO SCTP_RCVINFO SCTP_NXTINFO SCTP_PRINFO SCTP_AUTHINFO SCTP_DSTADDRV4 SCTP_DSTADDRV6
C SCTP_COMM_UP SCTP_COMM_LOST SCTP_RESTART SCTP_SHUTDOWN_COMP SCTP_CANT_STR_ASSOC
C SCTP_ADDR_AVAILABLE SCTP_ADDR_UNREACHABLE SCTP_ADDR_REMOVED SCTP_ADDR_ADDED SCTP_ADDR_MADE_PRIM SCTP_ADDR_CONFIRMED SCTP_ADDR_POTENTIALLY_FAILED SCTP_ADDR_PF
C SCTP_DATA_UNSENT SCTP_DATA_SENT SCTP_PARTIAL_DELIVERY_ABORTED
C SCTP_AUTH_NEW_KEY SCTP_AUTH_NEWKEY SCTP_AUTH_FREE_KEY SCTP_AUTH_NO_AUTH
C SCTP_STREAM_RESET_INCOMING_SSN SCTP_STREAM_RESET_OUTGOING_SSN SCTP_STREAM_RESET_DENIED SCTP_STREAM_RESET_FAILED
C SCTP_ASSOC_RESET_DENIED SCTP_ASSOC_RESET_FAILED SCTP_ASSOC_CHANGE_DENIED SCTP_ASSOC_CHANGE_FAILED SCTP_STREAM_CHANGE_DENIED SCTP_STREAM_CHANGE_FAILED
C SCTP_SN_TYPE_BASE SCTP_DATA_IO_EVENT SCTP_ASSOC_CHANGE SCTP_PEER_ADDR_CHANGE SCTP_SEND_FAILED SCTP_REMOTE_ERROR SCTP_SHUTDOWN_EVENT SCTP_PARTIAL_DELIVERY_EVENT
C SCTP_ADAPTATION_INDICATION SCTP_AUTHENTICATION_EVENT SCTP_AUTHENTICATION_INDICATION SCTP_SENDER_DRY_EVENT SCTP_STREAM_RESET_EVENT SCTP_ASSOC_RESET_EVENT SCTP_STREAM_CHANGE_EVENT SCTP_SEND_FAILED_EVENT SCTP_SN_TYPE_MAX
C SCTP_FAILED_THRESHOLD SCTP_RECEIVED_SACK SCTP_HEARTBEAT_SUCCESS SCTP_RESPONSE_TO_USER_REQ SCTP_INTERNAL_ERROR SCTP_SHUTDOWN_GUARD_EXPIRES SCTP_PEER_FAULTY
C SPP_HB_ENABLE SPP_HB_DISABLE SPP_HB SPP_HB_DEMAND SPP_PMTUD_ENABLE SPP_PMTUD_DISABLE SPP_PMTUD SPP_SACKDELAY_ENABLE SPP_SACKDELAY_DISABLE SPP_SACKDELAY SPP_HB_TIME_IS_ZERO SPP_IPV6_FLOWLABEL SPP_DSCP
C SCTP_AUTH_HMAC_ID_SHA1 SCTP_AUTH_HMAC_ID_SHA256
C SCTP_INACTIVE SCTP_PF SCTP_POTENTIALLY_FAILED SCTP_ACTIVE SCTP_UNCONFIRMED SCTP_UNKNOWN
C SCTP_EMPTY SCTP_CLOSED SCTP_COOKIE_WAIT SCTP_COOKIE_ECHOED SCTP_ESTABLISHED SCTP_SHUTDOWN_PENDING SCTP_SHUTDOWN_SENT SCTP_SHUTDOWN_RECEIVED SCTP_SHUTDOWN_ACK_SENT
C SCTP_BINDX_ADD_ADDR SCTP_BINDX_REM_ADDR
C SCTP_SS_FCFS SCTP_SS_DEFAULT SCTP_SS_PRIO SCTP_SS_RR
C SOL_SCTP IPPROTO_SCTP
C SCTP_SENDV_NOINFO SCTP_SENDV_SNDINFO SCTP_SENDV_PRINFO SCTP_SENDV_AUTHINFO SCTP_SENDV_SPA
C SCTP_SEND_SNDINFO_VALID SCTP_SEND_PRINFO_VALID SCTP_SEND_AUTHINFO_VALID
C SCTP_RECVV_NOINFO SCTP_RECVV_RCVINFO SCTP_RECVV_NXTINFO SCTP_RECVV_RN

D HAVE_SCTP HAVE_KERNEL_SCTP HAVE_SCTP_MULTIBUF HAVE_SCTP_NOCONNECT HAVE_SCTP_PRSCTP HAVE_SCTP_ADDIP HAVE_SCTP_CANSET_PRIMARY
D HAVE_SCTP_STREAM_RESET_EVENT HAVE_SCTP_STREAM_RECONFIG HAVE_SCTP_PEELOFF_FLAGS HAVE_SCTP_PDAPI_EVENT_PDAPI_STREAM HAVE_SCTP_PDAPI_EVENT_PDAPI_SEQ
D HAVE_SCTP_SENDV HAVE_SCTP_AUTH_NO_AUTH HAVE_SCTP_SPP_IPV6_FLOWLABEL HAVE_SCTP_SPP_DSCP
D sctp_setprim shmac_number_of_idents guth_number_of_chunks

X SCTP_PR_INDEX(TTL)
X SCTP_PR_INDEX(RTX)
X SCTP_PR_INDEX(PRIO)
X __SCTP_PR_INDEX(SCTP_PR_SCTP_MAX)
X SCTP_PR_POLICY(0xffff)
X SCTP_PR_TTL_ENABLED(SCTP_PR_SCTP_TTL | SCTP_UNORDERED)
X SCTP_PR_RTX_ENABLED(SCTP_PR_SCTP_RTX | SCTP_UNORDERED)
X SCTP_PR_PRIO_ENABLED(SCTP_PR_SCTP_PRIO | SCTP_UNORDERED)
X SCTP_PR_TTL_ENABLED(SCTP_PR_SCTP_PRIO)
X ({ unsigned short f_ = 0xffff; SCTP_PR_SET_POLICY(f_, SCTP_PR_SCTP_RTX); f_; })

K SCTP_SS_FC=3 SCTP_SS_WFQ=4 SCTP_SS_MAX=4
EOF

# Library functions: name, then the exact function type lksctp declares.
cat >"$work/funcs.txt" <<'EOF'
sctp_bindx|int (int, struct sockaddr *, int, int)
sctp_connectx|int (int, struct sockaddr *, int, sctp_assoc_t *)
sctp_peeloff|int (int, sctp_assoc_t)
sctp_peeloff_flags|int (int, sctp_assoc_t, unsigned int)
sctp_opt_info|int (int, sctp_assoc_t, int, void *, socklen_t *)
sctp_getpaddrs|int (int, sctp_assoc_t, struct sockaddr **)
sctp_freepaddrs|int (struct sockaddr *)
sctp_getladdrs|int (int, sctp_assoc_t, struct sockaddr **)
sctp_freeladdrs|int (struct sockaddr *)
sctp_sendmsg|int (int, const void *, size_t, struct sockaddr *, socklen_t, uint32_t, uint32_t, uint16_t, uint32_t, uint32_t)
sctp_send|int (int, const void *, size_t, const struct sctp_sndrcvinfo *, int)
sctp_recvmsg|int (int, void *, size_t, struct sockaddr *, socklen_t *, struct sctp_sndrcvinfo *, int *)
sctp_getaddrlen|int (sa_family_t)
sctp_sendv|int (int, const struct iovec *, int, struct sockaddr *, int, void *, socklen_t, unsigned int, int)
sctp_recvv|int (int, const struct iovec *, int, struct sockaddr *, socklen_t *, void *, socklen_t *, unsigned int *, int *)
EOF

have_62=0
grep -q 'SCTP_SS_WFQ' /usr/include/linux/sctp.h 2>/dev/null && have_62=1

gen() { # $1 = "ours" | "system"
    local side=$1 kind rest
    cat <<'EOF'
#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>
#include <netinet/sctp.h>
#define STR_(x) #x
#define STR(x) STR_(x)
#define SCALAR(x) _Generic((x), \
	char: "char", signed char: "schar", unsigned char: "uchar", \
	short: "short", unsigned short: "ushort", int: "int", \
	unsigned int: "uint", long: "long", unsigned long: "ulong", \
	long long: "llong", unsigned long long: "ullong", \
	unsigned char *: "uchar[]", unsigned short *: "ushort[]", \
	int *: "int[]", struct sockaddr *: "sockaddr*", default: "aggregate")
#define SIGNED(x) ((0 ? (x) : -1) < 0)
#define TYPE(T) printf("type %s size %zu align %zu\n", #T, sizeof(T), _Alignof(T))
#define FIELD(T, f) printf("  %s.%s off %zu size %zu %s\n", #T, #f, \
	offsetof(T, f), sizeof(((T *)0)->f), SCALAR(((T *)0)->f))
#define FLEX(T, f) printf("  %s.%s[] off %zu elem %zu %s\n", #T, #f, \
	offsetof(T, f), sizeof(((T *)0)->f[0]), SCALAR(((T *)0)->f))
#define CONST(x) printf("const %s = %lld size %zu signed %d\n", #x, \
	(long long)(x), sizeof(x), SIGNED(x))
#define EXPR(x) printf("expr %s = %lld\n", #x, (long long)(x))
int main(void)
{
EOF
    if [ "$side" = ours ]; then
        echo '#ifndef SCTPSHIM_NETINET_SCTP_H'
        echo '#error "expected include/netinet/sctp.h, got another one"'
        echo '#endif'
    else
        echo '#ifdef SCTPSHIM_NETINET_SCTP_H'
        echo '#error "expected the system netinet/sctp.h, got ours"'
        echo '#endif'
    fi
    while read -r kind rest; do
        case "$kind" in
        "" | "#"*) ;;
        T)
            echo "	TYPE($rest);"
            echo "	printf(\"  signed %d\\n\", ($rest)-1 < ($rest)0);"
            ;;
        S)
            local ty=${rest%% : *} fields=${rest#* : } f
            echo "	TYPE($ty);"
            for f in $fields; do
                case "$f" in
                *"[]") echo "	FLEX($ty, ${f%\[\]});" ;;
                *) echo "	FIELD($ty, $f);" ;;
                esac
            done
            ;;
        C)
            for f in $rest; do
                echo "	CONST($f);"
                printf '#ifdef %s\n\tputs("  %s is a macro");\n#else\n\tputs("  %s is not a macro");\n#endif\n' "$f" "$f" "$f"
            done
            ;;
        D)
            for f in $rest; do
                printf '#ifdef %s\n\tputs("define %s -> \\"" STR(%s) "\\"");\n#else\n\tputs("define %s missing");\n#endif\n' "$f" "$f" "$f" "$f"
            done
            ;;
        X) echo "	EXPR($rest);" ;;
        K)
            for f in $rest; do
                local n=${f%%=*} v=${f#*=}
                if [ "$have_62" = 1 ]; then
                    echo "	CONST($n);"
                elif [ "$side" = ours ]; then
                    # system uapi predates 6.2: compare with the 6.2 value
                    echo "	if ($n != $v) printf(\"%s is %d, want %d\\n\", \"$n\", (int)$n, $v);"
                fi
            done
            ;;
        *) echo "bad spec line: $kind $rest" >&2; return 1 ;;
        esac
    done <"$work/spec.txt"
    while IFS='|' read -r fn sig; do
        echo "	printf(\"func $fn %d\\n\", __builtin_types_compatible_p(__typeof__($fn), $sig));"
    done <"$work/funcs.txt"
    echo "	return 0;"
    echo "}"
}

gen ours >"$work/abi_ours.c"
gen system >"$work/abi_system.c"

echo "== ABI comparison: include/netinet/sctp.h vs /usr/include/netinet/sctp.h"
"$CC" -std=gnu11 -w -I"$root/include" -I"$work/poison" \
    "$work/abi_ours.c" -o "$work/abi_ours" || fail "compiling the program against our header"
"$CC" -std=gnu11 -w "$work/abi_system.c" -o "$work/abi_system" \
    || fail "compiling the program against the system header"
"$work/abi_ours" >"$work/ours.txt"
"$work/abi_system" >"$work/system.txt"

# The program must have exercised what the spec lists.
nfields=$(grep -c '^  .*\..* off ' "$work/system.txt" || true)
ntypes=$(grep -c '^type ' "$work/system.txt" || true)
nconsts=$(grep -c '^const ' "$work/system.txt" || true)
ndefs=$(grep -c '^define ' "$work/system.txt" || true)
nfuncs=$(grep -c '^func .* 1$' "$work/system.txt" || true)
nexpr=$(grep -c '^expr ' "$work/system.txt" || true)

if ! diff -u --label system "$work/system.txt" --label ours "$work/ours.txt"; then
    echo "check-header-abi: FAIL: include/netinet/sctp.h differs from the system header (diff above)" >&2
    exit 1
fi
if grep -q ' 0$' <(grep '^func ' "$work/ours.txt"); then
    grep '^func .* 0$' "$work/ours.txt" >&2
    fail "a library prototype does not match the expected signature"
fi
if [ "$have_62" = 1 ]; then
    echo "   Linux >= 6.2 scheduler constants compared with the system header"
else
    echo "   system <linux/sctp.h> predates 6.2: SCTP_SS_FC/WFQ/MAX checked against 3/4/4 instead"
fi
echo "   identical: $ntypes types, $nfields fields, $nconsts constants, $ndefs defines, $nexpr macro expressions, $nfuncs/$(wc -l <"$work/funcs.txt") function signatures ($(wc -l <"$work/ours.txt") lines)"

# ---------------------------------------------------------------------------
# 3. Link check against the real libsctp (C++ caller, so extern "C" matters)
# ---------------------------------------------------------------------------
if "$CC" -print-file-name=libsctp.so | grep -q /; then
    cat >"$work/link.cc" <<'EOF'
#include <netinet/sctp.h>
#include <cstdio>
#ifndef SCTPSHIM_NETINET_SCTP_H
#error "not our header"
#endif
int main()
{
	int n4 = sctp_getaddrlen(AF_INET), n6 = sctp_getaddrlen(AF_INET6);
	std::printf("%d %d\n", n4, n6);
	return !(n4 == (int)sizeof(struct sockaddr_in) && n6 == (int)sizeof(struct sockaddr_in6));
}
EOF
    echo "== C++ program built with our header, linked against libsctp"
    "$CXX" -std=c++17 "${wflags[@]}" -I"$root/include" -I"$work/poison" \
        "$work/link.cc" -o "$work/link" -lsctp || fail "C++ link against libsctp"
    "$work/link" >/dev/null || fail "sctp_getaddrlen via our header gave wrong sizes"
    echo "   ok"
fi

echo "check-header-abi: OK"
exit 0
