//! Parsing real packets captured from the Linux kernel and usrsctp (SCTP over
//! UDP, RFC 6951). Each constant is the UDP payload of one frame of the
//! named capture in `testdata/`; the SCTP ports are the ones inside the SCTP
//! header, not the UDP ports shown in the frame summary.

use std::net::Ipv4Addr;

use super::test_util::hex;
use super::{
    Chunk, CookieEcho, DataChunk, Heartbeat, Init, Packet, Param, Sack, Shutdown, ShutdownComplete,
    checksum, param_type, stored_checksum,
};

/// usrsctp-client_linux-server_handshake-shutdown: frame 1 t=0.000000 udp 29802 -> 29801: INIT
const USRSCTP_INIT: &str = "ee7e138800000000896c0d0a010000741fb1c2f200020000000a0800627bc8bb80000004c000000480080009c00fc1808200000080020024b9e5b3b2db588e7ec2f9d855b4df119d4d886ed675effb20e6396ee32ff431e980040006000100008003000680c10000000c00060005000000050008c0000202000500087f000001";

/// linux-client_usrsctp-server_1MiB-echo: frame 1 t=0.000000 udp 29804 -> 9899: INIT
const LINUX_INIT: &str = "a70d138900000000844bcfa801000024056012f00001a000000affff3308da0c000c00060005000080000004c0000004";

/// usrsctp-client_linux-server_handshake-shutdown: frame 2 t=0.023278 udp 29801 -> 29802: INIT_ACK
const LINUX_INIT_ACK: &str = "1388ee7e1fb1c2f2519b70e4020001646d27ce240001a000000a000a334e0e46000701487f0e2d00d5fc550f8253dbd8c2909f255e3d240d0000000000000000000000000000000024ce276df2c2b11f0000000000000000251a839b5ffdeb180a000a00460e4e330200ee7e0a00020200000000000000000000000000000000000000008813010000000000800200247c43164af1ece01c72776d81d28a1c78b2be7579422fc5a7172889f1f7c59541000000000000000000000000000000000000000000000000000000000000000000000000010000741fb1c2f200020000000a0800627bc8bb80000004c000000480080009c00fc1808200000080020024b9e5b3b2db588e7ec2f9d855b4df119d4d886ed675effb20e6396ee32ff431e980040006000100008003000680c10000000c00060005000000050008c0000202000500087f000001000000000000000000000000000000000000000000000000000000000000000080000004c0000004";

/// linux-client_usrsctp-server_1MiB-echo: frame 2 t=0.000143 udp 9899 -> 29804: INIT_ACK
const USRSCTP_INIT_ACK: &str = "1389a70d056012f0f3df563b020001841f3d51c500020000000a08009224b8c580000004c000000480080009c00fc180820000008002002402fe3e459b7281602acf26c120cfd03aac091ad5c1bc24edd4458e13841e5fb280040006000100008003000680c1000000050008c0000202000500087f000001000701184b414d452d42534420312e3100000000c4d8096b0000000080f101000000000060ea00000000000000000000f01260051f3d51c57f000001000000000000000000000000050000007f0000010000000000000000000000000500000000000000a70d138901000000010101000000000001000024056012f00001a000000affff3308da0c000c00060005000080000004c0000004020001841f3d51c500020000000a08009224b8c580000004c000000480080009c00fc180820000008002002402fe3e459b7281602acf26c120cfd03aac091ad5c1bc24edd4458e13841e5fb280040006000100008003000680c1000000050008c0000202000500087f0000013ef55dbab370a3cc63067879e1fabfa1b5138aec";

/// usrsctp-client_linux-server_handshake-shutdown: frame 3 t=0.023439 udp 29802 -> 29801: COOKIE_ECHO
const USRSCTP_COOKIE_ECHO: &str = "ee7e13886d27ce240e30b0440a0001487f0e2d00d5fc550f8253dbd8c2909f255e3d240d0000000000000000000000000000000024ce276df2c2b11f0000000000000000251a839b5ffdeb180a000a00460e4e330200ee7e0a00020200000000000000000000000000000000000000008813010000000000800200247c43164af1ece01c72776d81d28a1c78b2be7579422fc5a7172889f1f7c59541000000000000000000000000000000000000000000000000000000000000000000000000010000741fb1c2f200020000000a0800627bc8bb80000004c000000480080009c00fc1808200000080020024b9e5b3b2db588e7ec2f9d855b4df119d4d886ed675effb20e6396ee32ff431e980040006000100008003000680c10000000c00060005000000050008c0000202000500087f0000010000000000000000000000000000000000000000000000000000000000000000";

/// linux-client_usrsctp-server_1MiB-echo: frame 3 t=0.006820 udp 29804 -> 9899: COOKIE_ECHO
const LINUX_COOKIE_ECHO: &str = "a70d13891f3d51c5881d2ff00a0001184b414d452d42534420312e3100000000c4d8096b0000000080f101000000000060ea00000000000000000000f01260051f3d51c57f000001000000000000000000000000050000007f0000010000000000000000000000000500000000000000a70d138901000000010101000000000001000024056012f00001a000000affff3308da0c000c00060005000080000004c0000004020001841f3d51c500020000000a08009224b8c580000004c000000480080009c00fc180820000008002002402fe3e459b7281602acf26c120cfd03aac091ad5c1bc24edd4458e13841e5fb280040006000100008003000680c1000000050008c0000202000500087f0000013ef55dbab370a3cc63067879e1fabfa1b5138aec";

/// usrsctp-client_linux-server_handshake-shutdown: frame 4 t=0.028467 udp 29801 -> 29802: COOKIE_ACK
const LINUX_COOKIE_ACK: &str = "1388ee7e1fb1c2f22b908e470b000004";

/// linux-client_usrsctp-server_1MiB-echo: frame 4 t=0.007053 udp 9899 -> 29804: COOKIE_ACK
const USRSCTP_COOKIE_ACK: &str = "1389a70d056012f0e34c37460b000004";

/// linux-client_usrsctp-server_1MiB-echo: frame 5 t=0.016209 udp 29804 -> 9899: DATA (TSN=0) (Message Fragment)
const LINUX_DATA_FIRST: &str = "a70d13891f3d51c58aa995d4000205b43308da0c000000000000000000bb7733efab6622de9a5611cd894501bc7834f0ac6723df9b5712ce8a4602bd7935f1ad6824e09c5813cf8b4703be7a36f2ae6925e19d5914d08c4804bf7b37f3af6a26e29e5a16d18d4905c17c38f4b06c27e39f5b17d28e4a06c27d39f5b16d28e4a05c18d38f4b07c37e3af6b26e29e5a15d19d4904c08c47f3bf7b36f2ae6a25e1ad5914d09c5803cf8b4702ce7a35f1bd7924e0ac6823df9b5712de8a4601cd8934f0bc7833efab6722ee9a5611dd994500cc8843ffbb7732feaa6621eda95510dc98540fcb87430eba7631fdb96520eca8642fdb97531eda86420dc98530fcb8743feba7632eea96521dd995410cc8844ffbb7733efaa6622de9a5511cd894500bc7834f0ab6723df9b5612ce8a4601bd7935f1ac6824e09c5813cf8b4703be7a36f2ae6925e19d5914d08c4804bf7b37f3af6a26e29e5a15d18d4905c07c38f4b06b27e39f5b16d28e4a06c17d39f5b16c28e4a05c17d38f4b07c27e3af6b26e29e5a15d19d4904c08c47f3bf7b36f2ae6a25e1ad5914d09c5803cf8b4702be7a35f1bd6924e0ac6813df9b5712ce8a4601cd7934f0bc7823efab6722de9a5611dd994500cc8843ffbb7732feaa6621eda95510dc98540fcb87430eba7631fdb96520eca8641fdb97531eca86420dc97530fcb8742feba7632eda96521dd985410cc8843ffbb7733efaa6622de9a5511cd894500bc7834f0ab6723df9b5612ce8a4601bd7935f1ac6824e09c5713cf8b4702be7a36f2ad6925e19d5814d08c4803bf7b37f3ae6a26e29e5915d18d4905c07c38f4b06b27e39f5b16d28e4a06c17d39f5b16c28e4a05c17d38f4b07c27e3af6b26d29e5a15d18d4904c08c37f3bf7b36e2ae6a25e19d5914d09c4803cf8b46f2be7a35f1bd6924e0ac6813df9b5712ce8a4601cd7934f0bc7823efab6722de9a5611dd894500cc8833ffbb7732eeaa6621ed995510dc98440fcb8742feba7631fda96520eca8541fdb97531eca86420dc97530fcb8742feba7632eda96521dd985410cc8843ffbb7733eeaa6622de995511cd894400bc7834efab6723df9a5612ce8a4501bd7935f0ac6824e09c5713cf8b4702be7a36f2ad6925e19d5814d08c4803bf7b37f3ae6a26e29e5915d18d4904c07c38f4af6b27e39f5a16d28e4a05c17d39f5b06c28e4a05b17d38f4b06c27e3af6b26d29e5a15d18d4904c08c37f3bf7b36e2ae6a25e19d5914d09c4803cf8b46f2be7a35f1ad6924e0ac5813df9b5702ce8a4601bd7934f0bc6823efab6712de9a5611cd894500cc8833ffbb7732eeaa6621ed995510dc98440fcb8742feba7631fda96520eca8541fdb97530eca86420db97530fcb8642feba7631eda96521dc985410cc8743ffbb7732eeaa6622de995511cd894400bc7834efab6723df9a5612ce8a4501bd7935f0ac6824e09b5713cf8b4602be7a36f1ad6925e19c5814d08c4703bf7b37f2ae6a26e29d5915d18d4804c07c38f4af6b27e39f5a16d28e4a05c17d39f5b06c28e4a05b17d38f4b06c27e3af6b16d29e5a15c18d4904c07c37f3bf7b26e2ae6a25d19d5914d08c4803cf8b36f2be7a35f1ad6924e0ac5813df9b5702ce8a4601bd7934f0bc6823efab6712de9a5611cd894500cc7833ffbb7722eeaa6621dd995510dc88440fcb8732feba7631eda96520ec98541fdb97530eca86420db97530fcb8642feba7631eda96521dc985410cc8743ffbb7732eeaa6622dd995511cd884400bc7833efab6723de9a5612ce894501bd7934f0ac6824df9b5713cf8b4602be7a36f1ad6925e19c5814d08c4703bf7b37f2ae6a26e29d5915d18d4804c07c38f3af6b27e39e5a16d28e4905c17d39f4b06c28e49f5b17d38f4a06c27e3af5b16d29e5a15c18d4904c07c37f3bf7b26e2ae6a25d19d5914d08c4803cf8b36f2be7a35e1ad6924e09c5813df9b4702ce8a45f1bd7934f0ac6823efab5712de9a5601cd894500bc7833ffbb7722eeaa6621dd995510dc88440fcb8732feba7631eda96520ec98541fdb97430eca8641fdb97";

/// linux-client_usrsctp-server_1MiB-echo: frame 6 t=0.016241 udp 9899 -> 29804: SACK (Ack=0, Arwnd=129372)
const USRSCTP_SACK: &str = "1389a70d056012f0ed746dad030000103308da0c0001f95c00000000";

/// usrsctp-client_linux-server_1MiB-echo_10pct-loss: frame 9 t=0.044482 udp 29805 -> 29806: SACK (Ack=0, Arwnd=105052)
const LINUX_SACK: &str = "1388e7b21a9217b30a832c3d03000010613aba9b00019a5c00000000";

/// usrsctp-client_linux-server_1MiB-echo_10pct-loss: frame 18 t=0.058280 udp 29805 -> 29806: SACK (Ack=5+2, Arwnd=96388)
const LINUX_SACK_GAP_2_2: &str = "1388e7b21a9217b372f38c5803000014613abaa0000178840001000000020002";

/// usrsctp-client_linux-server_1MiB-echo_10pct-loss: frame 20 t=0.058290 udp 29805 -> 29806: SACK (Ack=5+4, Arwnd=93500)
const LINUX_SACK_GAP_2_4: &str = "1388e7b21a9217b3b98fa49a03000014613abaa000016d3c0001000000020004";

/// linux-client_usrsctp-server_1MiB-echo: frame 406 t=0.075024 udp 29804 -> 9899: SACK (Ack=119, Arwnd=90112) DATA (TSN=131)
const LINUX_SACK_DATA: &str = "a70d13891f3d51c5bd1ab855030000109224b93c0001600000000000000102143308da8f0000000a00000000ab6723df9a5612ce8a4501bd7935f0ac6824e09b5713cf8b4602be7a36f2ad6925e19d5814d08c4803bf7b37f3ae6a26e29e5915d18d4904c07c38f4af6b27e39f5a16d28e4a05c17d39f5b06c28e4a05b17d38f4b06c27e3af6b16d29e5a15c18d4904c08c37f3bf7b36e2ae6a25e19d5914d09c4803cf8b46f2be7a35f1ad6924e0ac5813df9b5702ce8a4601bd7934f0bc6823efab6712de9a5611cd894500cc7833ffbb7732eeaa6621ed995510dc98440fcb8742feba7631fda96520eca8541fdb97530eca86420db97530fcb8642feba7631eda96521dc985410cc8743ffbb7732eeaa6622dd995511cd894400bc7834efab6723df9a5612ce8a4501bd7935f0ac6824e09b5713cf8b4602be7a36f1ad6925e19c5814d08c4703bf7b37f2ae6a26e29d5915d18d4804c07c38f3af6b27e39f5a16d28e4a05c17d39f5b06c28e4a05b17d38f4b06c27e3af6b16d29e5a15c18d4904c07c37f3bf7b26e2ae6a25d19d5914d08c4803cf8b36f2be7a35e1ad6924e09c5813df9b5702ce8a4601bd7934f0bc6823efab6712de9a5611cd894500cc7833ffbb7722eeaa6621dd995510dc88440fcb8732feba7631eda96520ec98541fdb97430eca8641fdb97530fcb8642feba7631eda96521dc985410cc8743ffbb7732eeaa6622dd995511cd884400bc7833efab6723de9a5612ce894501bd7934f0ac6824df9b5713cf8a4602be7a";

/// usrsctp-client_linux-server_1MiB-echo_10pct-loss: frame 239 t=0.112726 udp 29805 -> 29806: SACK (Ack=83, Arwnd=90112) DATA (TSN=35)
const LINUX_SACK_DATA_2: &str = "1388e7b21a9217b3c6c5408f03000010613abaee000160000000000000010204c4c5fab400000002000000005814d08b4703bf7b36f2ae6a26e29d5915d18d4804c07c38f3af6b27e39e5a16d28e4905c17d39f4b06c28e49f5b17d38f4a06c27e3af5b16d29e5a05c18d4904b07c37f3bf6b26e2ae6a15d19d5914c08c4803cf8b36f2be7a35e1ad6924e09c5813df9b4702ce8a45f1bd7934f0ac6823efab5712de9a5601cd894500bc7833ffbb6722eeaa6611dd995510cc88440fcb7732feba7631eda96520ec98541fdb97430eca8641fdb97530fca8642feba7531eda96520dc985410cb8743ffbb7632eeaa6621dd995511cc884400bc7733efab6722de9a5612cd894501bd7934f0ac6824df9b5713cf8a4602be7a35f1ad6925e09c5814d08b4703bf7b36f2ae6a26e19d5915d18c4804c07c37f3af6b27e29e5a16d28d4905c17d38f4b06c28e39f5b17d38f4a06c27e3af5b16d29e5a05c18d4904b07c37f3bf6b26e2ae6a15d19d5914c08c4803cf7b36f2be7a25e1ad6924d09c5813df8b4702ce8a35f1bd7934e0ac6823ef9b5712de9a5601cd894500bc7833ffbb6722eeaa6611dd995510cc88440fcb7732feba7621eda96520dc98541fdb87430eca8631fdb97530eca8642feb97531eda96420dc98540fcb8743ffbb7632eeaa6621dd995511cc884400bc7733efab6722de9a5612cd894501bd7834f0ac6823df9b5713ce8a4602be7935f1ad6924e09c5814cf8b4703bf7a36f2ae6a";

/// usrsctp-client_linux-server_1MiB-echo_10pct-loss: frame 1520 t=3.218125 udp 29805 -> 29806: DATA (TSN=239) (retransmission) DATA (TSN=311) (retransmission)
const LINUX_DATA_DATA: &str = "1388e7b21a9217b358655c1400010204c4c5fb800000001300000000da96520dc98541fdb87430eca8641fdb97530fca8642feba7531eda96520dc985410cb8743ffbb7632eeaa6621dd995511cc884400bc7733efab6722de9a5612cd894501bd7834f0ac6823df9b5713ce8a4602be7a35f1ad6925e09c5814d08b4703bf7b36f2ae6a26e19d5915d18c4804c07c37f3af6b27e29e5a16d28d4905c17d38f4b06c28e39f5b17d38e4a06c27e39f5b16d29e5a05c18d4904b07c37f3bf6b26e2ae6a15d19d5914c08c4803cf7b36f2be7a25e1ad6924d09c5813df8b4702ce8a35f1bd7934e0ac6823ef9b5712de9a4601cd8944f0bc7833ffbb6722eeaa6611dd995510cc88440fcb7732feba7621eda96520dc98541fdb87430eca8631fdb97530eca8642feb97531eda96420dc98540fcb8743ffba7632eeaa6521dd995511cc884400bc7733efab6722de9a5612cd894501bd7834f0ac6823df9b5713ce8a4602be7935f1ad6924e09c5814cf8b4703bf7a36f2ae6a25e19d5915d08c4804c07b37f3af6b27e29e5a16d28d4905c17d38f4b06c28e39f5b17d38e4a06c27e39f5b16d29e4a05c18d48f4b07c37f3af6b26e2ae5a15d19d5904c08c4803bf7b36f2be6a25e1ad6914d09c5813df8b4702ce8a35f1bd7934e0ac6823ef9b5712de9a4601cd8944f0bc7833ffab6722eeaa5611dd995500cc88440fbb7732feba6621eda96510dc98541fcb87430ec00010204c4c5fbc80000001d0000000026e29e5915d18d4904c07c38f4b06b27e39f5b16d28e4a06c17d39f5b16c28e4a05c17d38f4b07c27e3af6b26d29e5a15d18d4904c08c37f3bf7b36e2ae6a25e19d5914d09c4803cf8b46f2be7a35f1ad6924e0ac6813df9b5712ce8a4601cd7934f0bc7823efab6722de9a5611dd894500cc8833ffbb7732eeaa6621ed995510dc98440fcb8742feba7631fda96520eca8541fdb97531eca86420dc97530fcb8742feba7632eda96521dd985410cc8843ffbb7733eeaa6622de995511cd894400bc7834efab6723df9a5612ce8a4501bd7935f0ac6824e09b5713cf8b4702be7a36f2ad6925e19d5814d08c4803bf7b37f3ae6a26e29e5915d18d4904c07c38f4af6b27e39f5a16d28e4a05c17d39f5b06c28e4a05b17d38f4b06c27e3af6b16d29e5a15d18d4904c08c37f3bf7b36e2ae6a25e19d5914d09c4803cf8b46f2be7a35f1ad6924e0ac5813df9b5702ce8a4601bd7934f0bc6823efab6712de9a5611cd894500cc7833ffbb7732eeaa6621ed995510dc98440fcb8742feba7631fda96520eca8541fdb97530eca86420db97530fcb8642feba7631eda96521dc985410cc8743ffbb7732eeaa6622dd995511cd894400bc7834efab6723df9a5612ce8a4501bd7935f0ac6824e09b5713cf8b4602be7a36f1ad6925e19c5814d08c4703bf7b37f2ae6a26e29d5915d18d4804c07c38";

/// usrsctp-client_linux-server_1MiB-echo_10pct-loss: frame 955 t=1.714767 udp 29805 -> 29806: HEARTBEAT
const LINUX_HEARTBEAT: &str = "1388e7b21a9217b3549f1a240400003c000100380200e7b20a000202000000000000000000000000000000000000000068e1feff00000000d0628aef77d0b5690000000000000000";

/// usrsctp-client_linux-server_1MiB-echo_10pct-loss: frame 956 t=1.714889 udp 29806 -> 29805: HEARTBEAT_ACK
const USRSCTP_HEARTBEAT_ACK: &str = "e7b213882d9d884f714259db0500003c000100380200e7b20a000202000000000000000000000000000000000000000068e1feff00000000d0628aef77d0b5690000000000000000";

/// usrsctp-client_linux-no-listener_abort: frame 2 t=0.017449 udp 29807 -> 29808: ABORT
const LINUX_ABORT: &str = "1770ec17463087b72f6df07e06000004";

/// usrsctp-client_linux-no-listener_abort: frame 1 t=0.000000 udp 29808 -> 29807: INIT
const USRSCTP_INIT_NO_LISTENER: &str = "ec17177000000000fb70dc1601000074463087b700020000000a0800653136e280000004c000000480080009c00fc1808200000080020024457fac5ebd777e941baf45d1095a79f3484d6e88781ee99a504b94a56665bb6280040006000100008003000680c10000000c00060005000000050008c0000202000500087f000001";

/// usrsctp-client_linux-no-listener_abort: frame 7 t=2.298007 udp 29809 -> 29807: SHUTDOWN
const USRSCTP_SHUTDOWN: &str = "c1951388914349aca5f017530700000838d1442b";

/// usrsctp-client_linux-server_1MiB-echo_10pct-loss: frame 3208 t=6.422581 udp 29806 -> 29805: SHUTDOWN
const USRSCTP_SHUTDOWN_2: &str = "e7b213882d9d884fb106e75407000008c4c5fd90";

/// linux-client_usrsctp-server_1MiB-echo: frame 2446 t=0.276122 udp 29804 -> 9899: SHUTDOWN
const LINUX_SHUTDOWN: &str = "a70d13891f3d51c59dc9127d070000089224bbc4";

/// usrsctp-client_linux-no-listener_abort: frame 8 t=2.302267 udp 29807 -> 29809: SHUTDOWN_ACK
const LINUX_SHUTDOWN_ACK: &str = "1388c195abd6671fe837a7c508000004";

/// linux-client_usrsctp-server_1MiB-echo: frame 2447 t=0.276134 udp 9899 -> 29804: SHUTDOWN_ACK
const USRSCTP_SHUTDOWN_ACK: &str = "1389a70d056012f0dac5152408000004";

/// usrsctp-client_linux-no-listener_abort: frame 9 t=2.302637 udp 29809 -> 29807: SHUTDOWN_COMPLETE
const USRSCTP_SHUTDOWN_COMPLETE: &str = "c1951388914349ac30eaf09f0e000004";

/// linux-client_usrsctp-server_1MiB-echo: frame 2448 t=0.276609 udp 29804 -> 9899: SHUTDOWN_COMPLETE
const LINUX_SHUTDOWN_COMPLETE: &str = "a70d13891f3d51c5bfbd0e980e000004";

const CAPTURE_FILES: [(&str, &str); 4] = [
    (
        "linux-client_usrsctp-server_1MiB-echo",
        include_str!("testdata/linux-client_usrsctp-server_1MiB-echo.txt"),
    ),
    (
        "usrsctp-client_linux-no-listener_abort",
        include_str!("testdata/usrsctp-client_linux-no-listener_abort.txt"),
    ),
    (
        "usrsctp-client_linux-server_1MiB-echo_10pct-loss",
        include_str!("testdata/usrsctp-client_linux-server_1MiB-echo_10pct-loss.txt"),
    ),
    (
        "usrsctp-client_linux-server_handshake-shutdown",
        include_str!("testdata/usrsctp-client_linux-server_handshake-shutdown.txt"),
    ),
];

/// (file, frame summary, packet bytes) for every packet in the captures.
pub(crate) fn all_captured_packets() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    let mut out = Vec::new();
    for (name, text) in CAPTURE_FILES {
        let mut summary = "";
        for line in text.lines() {
            let line = line.trim();
            if let Some(s) = line.strip_prefix('#') {
                summary = s.trim();
            } else if !line.is_empty() {
                out.push((name, summary, hex(line)));
            }
        }
    }
    out
}

/// Decodes with checksum verification and checks the re-encoding is
/// byte-identical.
fn decode(h: &str) -> Packet {
    let bytes = hex(h);
    assert_eq!(stored_checksum(&bytes), Some(checksum(&bytes)));
    let p = Packet::decode(&bytes).expect("captured packet decodes");
    assert_eq!(p.encode(), bytes, "re-encoding differs");
    assert_eq!(
        Packet::peek_header(&bytes),
        Some((p.src_port, p.dst_port, p.verification_tag))
    );
    p
}

fn only_chunk(p: &Packet) -> &Chunk {
    assert_eq!(p.chunks.len(), 1, "{:?}", p.chunks);
    &p.chunks[0]
}

fn unknown_param(t: u16, value: &[u8]) -> Param {
    Param::Unknown {
        param_type: t,
        value: value.to_vec(),
    }
}

#[test]
fn every_captured_packet_decodes_and_re_encodes() {
    let packets = all_captured_packets();
    assert_eq!(packets.len(), 20 + 9 + 31 + 7);
    for (file, summary, bytes) in packets {
        let p = Packet::decode(&bytes).unwrap_or_else(|e| panic!("{file} {summary}: {e:?}"));
        assert_eq!(p.encode(), bytes, "{file} {summary}");
        assert!(!p.chunks.is_empty());
        // The summary names the chunks in order.
        let names: Vec<&str> = p
            .chunks
            .iter()
            .map(|c| match c {
                Chunk::Data(_) => "DATA",
                Chunk::Init(_) => "INIT",
                Chunk::InitAck(_) => "INIT_ACK",
                Chunk::Sack(_) => "SACK",
                Chunk::Heartbeat(_) => "HEARTBEAT",
                Chunk::HeartbeatAck(_) => "HEARTBEAT_ACK",
                Chunk::Abort(_) => "ABORT",
                Chunk::Shutdown(_) => "SHUTDOWN",
                Chunk::ShutdownAck => "SHUTDOWN_ACK",
                Chunk::Error(_) => "ERROR",
                Chunk::CookieEcho(_) => "COOKIE_ECHO",
                Chunk::CookieAck => "COOKIE_ACK",
                Chunk::ShutdownComplete(_) => "SHUTDOWN_COMPLETE",
                Chunk::Unknown(_) => "?",
            })
            .collect();
        let listed: Vec<&str> = summary
            .split(": ")
            .nth(1)
            .unwrap_or("")
            .split(' ')
            .filter(|w| w.chars().all(|c| c.is_ascii_uppercase() || c == '_') && !w.is_empty())
            .collect();
        assert_eq!(names, listed, "{file} {summary}");
    }
}

#[test]
fn every_captured_chunk_round_trips_alone() {
    for (file, summary, bytes) in all_captured_packets() {
        let p = Packet::decode(&bytes).expect("decodes");
        let mut offset = Packet::HEADER_LEN;
        for c in &p.chunks {
            let (again, used) = Chunk::decode(&bytes[offset..]).expect("chunk");
            assert_eq!(&again, c, "{file} {summary}");
            assert_eq!(used, c.encoded_len());
            assert_eq!(
                c.to_bytes(),
                bytes[offset..offset + used],
                "{file} {summary}"
            );
            offset += used;
        }
        assert_eq!(offset, bytes.len());
    }
}

#[test]
fn every_captured_packet_checksum_is_little_endian() {
    for (file, summary, bytes) in all_captured_packets() {
        let crc = checksum(&bytes);
        assert_eq!(bytes[8..12], crc.to_le_bytes(), "{file} {summary}");
    }
}

#[test]
fn corrupting_a_captured_packet_fails_the_checksum() {
    for (_, _, bytes) in all_captured_packets() {
        let mut b = bytes.clone();
        let last = b.len() - 1;
        b[last] ^= 0x80;
        assert_eq!(Packet::decode(&b), Err(super::WireError::BadChecksum));
    }
}

#[test]
fn usrsctp_init_with_many_params() {
    let p = decode(USRSCTP_INIT);
    assert_eq!(
        (p.src_port, p.dst_port, p.verification_tag),
        (61054, 5000, 0)
    );
    let Chunk::Init(init) = only_chunk(&p) else {
        panic!("not INIT: {p:?}");
    };
    assert_eq!(init.initiate_tag, 0x1fb1_c2f2);
    assert_eq!(init.a_rwnd, 131_072);
    assert_eq!((init.outbound_streams, init.inbound_streams), (10, 2048));
    assert_eq!(init.initial_tsn, 0x627b_c8bb);
    assert_eq!(init.params.len(), 9);
    // ECN Capable, Forward-TSN Supported, Supported Extensions.
    assert_eq!(init.params[0], unknown_param(0x8000, &[]));
    assert_eq!(init.params[1], unknown_param(0xc000, &[]));
    assert_eq!(
        init.params[2],
        unknown_param(0x8008, &[0xc0, 0x0f, 0xc1, 0x80, 0x82])
    );
    // AUTH: Random (32 bytes), HMAC algorithms (SHA-1), chunk list.
    assert!(
        matches!(&init.params[3], Param::Unknown { param_type: 0x8002, value } if value.len() == 32)
    );
    assert_eq!(init.params[4], unknown_param(0x8004, &[0, 1]));
    assert_eq!(init.params[5], unknown_param(0x8003, &[0x80, 0xc1]));
    assert_eq!(init.params[6], Param::SupportedAddressTypes(vec![5]));
    assert_eq!(
        init.params[7],
        Param::Ipv4Address(Ipv4Addr::new(192, 0, 2, 2))
    );
    assert_eq!(init.params[8], Param::Ipv4Address(Ipv4Addr::LOCALHOST));
    assert_eq!(init.check_values(), Ok(()));
}

#[test]
fn usrsctp_init_to_no_listener() {
    let p = decode(USRSCTP_INIT_NO_LISTENER);
    let Chunk::Init(init) = only_chunk(&p) else {
        panic!("not INIT");
    };
    assert_eq!(init.initiate_tag, 0x4630_87b7);
    assert_eq!(init.params.len(), 9);
}

#[test]
fn linux_init() {
    let p = decode(LINUX_INIT);
    assert_eq!(
        (p.src_port, p.dst_port, p.verification_tag),
        (42765, 5001, 0)
    );
    assert_eq!(
        only_chunk(&p),
        &Chunk::Init(Init {
            initiate_tag: 0x0560_12f0,
            a_rwnd: 106_496,
            outbound_streams: 10,
            inbound_streams: 65535,
            initial_tsn: 0x3308_da0c,
            params: vec![
                Param::SupportedAddressTypes(vec![5]),
                unknown_param(0x8000, &[]),
                unknown_param(0xc000, &[]),
            ],
        })
    );
}

#[test]
fn linux_init_ack_with_cookie() {
    let p = decode(LINUX_INIT_ACK);
    assert_eq!((p.src_port, p.dst_port), (5000, 61054));
    // Addressed with the INIT's Initiate Tag.
    assert_eq!(p.verification_tag, 0x1fb1_c2f2);
    let Chunk::InitAck(ack) = only_chunk(&p) else {
        panic!("not INIT ACK");
    };
    assert_eq!(ack.initiate_tag, 0x6d27_ce24);
    assert_eq!((ack.outbound_streams, ack.inbound_streams), (10, 10));
    assert_eq!(ack.initial_tsn, 0x334e_0e46);
    assert_eq!(ack.params.len(), 3);
    let Param::StateCookie(cookie) = &ack.params[0] else {
        panic!("no cookie first");
    };
    assert_eq!(cookie.len(), 324);
    assert_eq!(ack.params[0].param_type(), param_type::STATE_COOKIE);
    assert_eq!(ack.params[1], unknown_param(0x8000, &[]));
    assert_eq!(ack.params[2], unknown_param(0xc000, &[]));
    assert_eq!(
        super::find_state_cookie(&ack.params),
        Some(cookie.as_slice())
    );
}

#[test]
fn usrsctp_init_ack_with_cookie_last() {
    let p = decode(USRSCTP_INIT_ACK);
    assert_eq!(
        (p.src_port, p.dst_port, p.verification_tag),
        (5001, 42765, 0x0560_12f0)
    );
    let Chunk::InitAck(ack) = only_chunk(&p) else {
        panic!("not INIT ACK");
    };
    assert_eq!(ack.initiate_tag, 0x1f3d_51c5);
    assert_eq!(ack.a_rwnd, 131_072);
    assert_eq!(ack.initial_tsn, 0x9224_b8c5);
    assert_eq!(ack.params.len(), 9);
    assert_eq!(
        ack.params[6],
        Param::Ipv4Address(Ipv4Addr::new(192, 0, 2, 2))
    );
    let Some(Param::StateCookie(cookie)) = ack.params.last() else {
        panic!("cookie not last");
    };
    assert_eq!(cookie.len(), 276);
    // usrsctp's cookie starts with its identification string.
    assert!(cookie.starts_with(b"KAME-BSD 1.1"));
}

#[test]
fn cookie_echo_carries_init_ack_cookie() {
    let ack = decode(USRSCTP_INIT_ACK);
    let echo = decode(LINUX_COOKIE_ECHO);
    let Chunk::InitAck(ack) = only_chunk(&ack) else {
        panic!("not INIT ACK");
    };
    assert_eq!(echo.verification_tag, ack.initiate_tag);
    assert_eq!(
        only_chunk(&echo),
        &Chunk::CookieEcho(CookieEcho {
            cookie: super::find_state_cookie(&ack.params)
                .expect("cookie")
                .to_vec()
        })
    );

    let ack = decode(LINUX_INIT_ACK);
    let echo = decode(USRSCTP_COOKIE_ECHO);
    let Chunk::InitAck(ack) = only_chunk(&ack) else {
        panic!("not INIT ACK");
    };
    let Chunk::CookieEcho(c) = only_chunk(&echo) else {
        panic!("not COOKIE ECHO");
    };
    assert_eq!(
        Some(c.cookie.as_slice()),
        super::find_state_cookie(&ack.params)
    );
    assert_eq!(echo.verification_tag, 0x6d27_ce24);
}

#[test]
fn cookie_acks() {
    let p = decode(LINUX_COOKIE_ACK);
    assert_eq!(only_chunk(&p), &Chunk::CookieAck);
    assert_eq!(p.verification_tag, 0x1fb1_c2f2);
    let p = decode(USRSCTP_COOKIE_ACK);
    assert_eq!(only_chunk(&p), &Chunk::CookieAck);
    assert_eq!(p.verification_tag, 0x0560_12f0);
}

#[test]
fn linux_first_data_fragment() {
    let p = decode(LINUX_DATA_FIRST);
    assert_eq!(p.verification_tag, 0x1f3d_51c5);
    let Chunk::Data(d) = only_chunk(&p) else {
        panic!("not DATA");
    };
    // First TSN is the INIT's Initial TSN.
    assert_eq!(d.tsn, 0x3308_da0c);
    assert!(d.beginning && !d.ending && !d.unordered && !d.immediate);
    assert_eq!((d.stream_id, d.ssn, d.ppid), (0, 0, 0));
    assert_eq!(d.payload.len(), 1444);
    assert_eq!(only_chunk(&p).flags(), DataChunk::FLAG_B);
}

#[test]
fn sacks_without_gaps() {
    let p = decode(USRSCTP_SACK);
    assert_eq!(
        only_chunk(&p),
        &Chunk::Sack(Sack {
            cum_tsn_ack: 0x3308_da0c,
            a_rwnd: 129_372,
            gap_blocks: vec![],
            dup_tsns: vec![],
        })
    );
    let p = decode(LINUX_SACK);
    assert_eq!(
        only_chunk(&p),
        &Chunk::Sack(Sack {
            cum_tsn_ack: 0x613a_ba9b,
            a_rwnd: 105_052,
            gap_blocks: vec![],
            dup_tsns: vec![],
        })
    );
}

#[test]
fn sacks_with_gap_blocks() {
    let p = decode(LINUX_SACK_GAP_2_2);
    assert_eq!(
        only_chunk(&p),
        &Chunk::Sack(Sack {
            cum_tsn_ack: 0x613a_baa0,
            a_rwnd: 96_388,
            gap_blocks: vec![(2, 2)],
            dup_tsns: vec![],
        })
    );
    let p = decode(LINUX_SACK_GAP_2_4);
    let Chunk::Sack(s) = only_chunk(&p) else {
        panic!("not SACK");
    };
    assert_eq!((s.cum_tsn_ack, s.a_rwnd), (0x613a_baa0, 93_500));
    assert_eq!(s.gap_blocks, [(2, 4)]);
}

#[test]
fn bundled_sack_and_data() {
    let p = decode(LINUX_SACK_DATA);
    assert_eq!(p.chunks.len(), 2);
    assert_eq!(
        p.chunks[0],
        Chunk::Sack(Sack {
            cum_tsn_ack: 0x9224_b93c,
            a_rwnd: 90_112,
            ..Sack::default()
        })
    );
    let Chunk::Data(d) = &p.chunks[1] else {
        panic!("not DATA");
    };
    assert_eq!((d.tsn, d.ssn), (0x3308_da0c + 131, 10));
    assert!(d.ending && !d.beginning);
    assert_eq!(d.payload.len(), 516);

    let p = decode(LINUX_SACK_DATA_2);
    assert!(matches!(&p.chunks[..], [Chunk::Sack(s), Chunk::Data(d)]
        if s.cum_tsn_ack == 0x613a_baee && d.tsn == 3_301_309_108 && d.ssn == 2 && d.payload.len() == 500));
}

#[test]
fn two_bundled_data_chunks() {
    let p = decode(LINUX_DATA_DATA);
    let [Chunk::Data(a), Chunk::Data(b)] = &p.chunks[..] else {
        panic!("not DATA DATA: {p:?}");
    };
    assert_eq!((a.tsn, a.ssn), (3_301_309_312, 19));
    assert_eq!((b.tsn, b.ssn), (3_301_309_384, 29));
    assert!(a.ending && b.ending && !a.beginning && !b.beginning);
}

#[test]
fn heartbeat_and_ack_echo_info() {
    let hb = decode(LINUX_HEARTBEAT);
    let ack = decode(USRSCTP_HEARTBEAT_ACK);
    let Chunk::Heartbeat(Heartbeat { info, .. }) = only_chunk(&hb) else {
        panic!("not HEARTBEAT");
    };
    assert_eq!(info.len(), 52);
    // Linux puts the path's sockaddr first: AF_INET (2, host order) + port.
    assert_eq!(&info[..2], [2, 0]);
    assert_eq!(
        only_chunk(&ack),
        &Chunk::HeartbeatAck(Heartbeat {
            info: info.clone(),
            extra: vec![]
        })
    );
    assert_eq!((hb.src_port, ack.dst_port), (5000, 5000));
}

#[test]
fn linux_abort_for_no_listener() {
    let init = decode(USRSCTP_INIT_NO_LISTENER);
    let p = decode(LINUX_ABORT);
    let Chunk::Abort(a) = only_chunk(&p) else {
        panic!("not ABORT");
    };
    // No TCB: Linux uses the INIT's Initiate Tag with T clear (§8.4 rule 3),
    // and sends no cause.
    assert!(!a.t_bit);
    assert!(a.causes.is_empty());
    let Chunk::Init(i) = only_chunk(&init) else {
        panic!("not INIT");
    };
    assert_eq!(p.verification_tag, i.initiate_tag);
    assert_eq!((p.src_port, p.dst_port), (init.dst_port, init.src_port));
}

#[test]
fn shutdowns() {
    let p = decode(USRSCTP_SHUTDOWN);
    assert_eq!(
        only_chunk(&p),
        &Chunk::Shutdown(Shutdown {
            cum_tsn_ack: 0x38d1_442b
        })
    );
    let p = decode(USRSCTP_SHUTDOWN_2);
    assert_eq!(
        only_chunk(&p),
        &Chunk::Shutdown(Shutdown {
            cum_tsn_ack: 0xc4c5_fd90
        })
    );
    let p = decode(LINUX_SHUTDOWN);
    assert_eq!(
        only_chunk(&p),
        &Chunk::Shutdown(Shutdown {
            cum_tsn_ack: 0x9224_bbc4
        })
    );
}

#[test]
fn shutdown_acks() {
    let p = decode(LINUX_SHUTDOWN_ACK);
    assert_eq!(only_chunk(&p), &Chunk::ShutdownAck);
    assert_eq!(p.verification_tag, 0xabd6_671f);
    let p = decode(USRSCTP_SHUTDOWN_ACK);
    assert_eq!(only_chunk(&p), &Chunk::ShutdownAck);
}

#[test]
fn shutdown_completes() {
    for h in [USRSCTP_SHUTDOWN_COMPLETE, LINUX_SHUTDOWN_COMPLETE] {
        let p = decode(h);
        assert_eq!(
            only_chunk(&p),
            &Chunk::ShutdownComplete(ShutdownComplete { t_bit: false })
        );
    }
}

#[test]
fn truncating_any_captured_packet_never_panics_and_mostly_fails() {
    for (_, _, bytes) in all_captured_packets() {
        for n in 0..bytes.len() {
            let r = Packet::decode_unverified(&bytes[..n]);
            if n < Packet::HEADER_LEN {
                assert!(r.is_err());
            }
        }
    }
}

/// Packets of one capture file, in order.
fn file_packets(file: &str) -> Vec<Packet> {
    all_captured_packets()
        .into_iter()
        .filter(|(f, _, _)| *f == file)
        .map(|(_, _, b)| Packet::decode(&b).expect("decodes"))
        .collect()
}

#[test]
fn verification_tags_follow_the_handshake() {
    for file in [
        "usrsctp-client_linux-server_handshake-shutdown",
        "linux-client_usrsctp-server_1MiB-echo",
        "usrsctp-client_linux-server_1MiB-echo_10pct-loss",
    ] {
        let packets = file_packets(file);
        let Chunk::Init(init) = &packets[0].chunks[0] else {
            panic!("{file}: first packet not INIT");
        };
        let Chunk::InitAck(ack) = &packets[1].chunks[0] else {
            panic!("{file}: second packet not INIT ACK");
        };
        let client_port = packets[0].src_port;
        assert_eq!(packets[0].verification_tag, 0, "{file}: INIT tag");
        for p in &packets[1..] {
            let expected = if p.dst_port == client_port {
                init.initiate_tag
            } else {
                ack.initiate_tag
            };
            assert_eq!(p.verification_tag, expected, "{file}: {:?}", p.chunks[0]);
        }
    }
}

#[test]
fn first_data_tsns_count_up_from_initial_tsn() {
    let packets = file_packets("linux-client_usrsctp-server_1MiB-echo");
    let Chunk::Init(init) = &packets[0].chunks[0] else {
        panic!("first packet not INIT");
    };
    let tsns: Vec<u32> = packets
        .iter()
        .take(13)
        .flat_map(|p| &p.chunks)
        .filter_map(|c| match c {
            Chunk::Data(d) => Some(d.tsn.wrapping_sub(init.initial_tsn)),
            _ => None,
        })
        .collect();
    assert_eq!(tsns, [0, 1, 2, 3, 4, 5]);
    // The SACKs in between acknowledge the same TSN space.
    let acks: Vec<u32> = packets
        .iter()
        .take(13)
        .flat_map(|p| &p.chunks)
        .filter_map(|c| match c {
            Chunk::Sack(s) => Some(s.cum_tsn_ack.wrapping_sub(init.initial_tsn)),
            _ => None,
        })
        .collect();
    assert_eq!(acks, [0, 2, 4]);
}
