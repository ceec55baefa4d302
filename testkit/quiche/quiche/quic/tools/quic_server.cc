// Copyright 2026 The build-quiche test fixture authors.

#include "quiche/quic/tools/quic_server.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <iostream>
#include <iterator>
#include <utility>

#include "quiche/quic/core/quic_udp_socket.h"

namespace quic {
namespace {

volatile std::sig_atomic_t g_shutdown_requested = 0;

void OnShutdownSignal(int) { g_shutdown_requested = 1; }

std::string JoinVersions(const std::vector<std::string>& versions) {
  std::string joined;
  for (const std::string& version : versions) {
    if (!joined.empty()) joined += ",";
    joined += version;
  }
  return joined;
}

}  // namespace

QuicServer::QuicServer(std::string certificate,
                       QuicSimpleServerBackend* backend,
                       std::vector<std::string> supported_versions,
                       uint64_t send_rate_bytes_per_second)
    : certificate_(std::move(certificate)),
      backend_(backend),
      supported_versions_(std::move(supported_versions)),
      send_rate_bytes_per_second_(send_rate_bytes_per_second) {}

QuicServer::~QuicServer() {
  if (fd_ >= 0) close(fd_);
}

bool QuicServer::CreateUDPSocketAndListen(const QuicSocketAddress& address) {
  std::string error;
  fd_ = CreateUdpSocket(address, &error);
  if (fd_ < 0) {
    std::cerr << "Failed to listen on " << address.ToString() << ": " << error
              << std::endl;
    return false;
  }
  self_address_ = QuicSocketAddress::FromSocket(fd_);
  return true;
}

void QuicServer::HandleEventsForever() {
  struct sigaction action = {};
  action.sa_handler = OnShutdownSignal;
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);

  char buffer[kMaxPacketSize + 64];
  bool busy = false;
  while (!g_shutdown_requested) {
    if (WaitReadable(fd_, busy ? 1 : 50)) {
      QuicSocketAddress peer;
      int length;
      while ((length = ReadUdpPacket(fd_, buffer, sizeof(buffer), &peer)) > 0) {
        QuicToyPacket packet;
        if (ParsePacket(buffer, length, &packet)) ProcessPacket(peer, packet);
      }
    }
    busy = false;
    int64_t now_ms = QuicNowMs();
    for (auto& session : sessions_) {
      if (session->OnCanWrite(now_ms)) busy = true;
    }
    RemoveClosedSessions();
  }
  for (auto& session : sessions_) {
    session->CloseConnection("server shutting down", /*send_close=*/true);
  }
  RemoveClosedSessions();
}

void QuicServer::ProcessPacket(const QuicSocketAddress& peer_address,
                               const QuicToyPacket& packet) {
  if (packet.type == QuicPacketType::kInitial) {
    auto existing = sessions_by_initial_id_.find(packet.destination_connection_id);
    if (existing != sessions_by_initial_id_.end()) {
      existing->second->ResendHandshake();
      return;
    }
    std::string version = packet.version.empty() ? "RFCv1" : packet.version;
    if (std::find(supported_versions_.begin(), supported_versions_.end(),
                  version) == supported_versions_.end()) {
      QuicToyPacket negotiation;
      negotiation.type = QuicPacketType::kVersionNegotiation;
      negotiation.destination_connection_id = packet.source_connection_id;
      negotiation.version = JoinVersions(supported_versions_);
      WritePacket(peer_address, SerializePacket(negotiation));
      return;
    }
    auto session = std::make_unique<QuicSimpleServerSession>(
        this, packet.source_connection_id, peer_address, certificate_,
        send_rate_bytes_per_second_, backend_);
    sessions_by_initial_id_[packet.destination_connection_id] = session.get();
    QuicSimpleServerSession* raw = session.get();
    sessions_.push_back(std::move(session));
    raw->Initialize();
    return;
  }
  auto it = sessions_by_id_.find(packet.destination_connection_id);
  if (it == sessions_by_id_.end()) return;  // Unknown connection: drop.
  it->second->ProcessUdpPacket(self_address_, peer_address, packet);
}

void QuicServer::OnNewConnectionIdIssued(const QuicConnectionId& id,
                                         QuicServerSessionBase* session) {
  sessions_by_id_[id] = session;
}

void QuicServer::WritePacket(const QuicSocketAddress& peer_address,
                             const std::string& data) {
  SendUdpPacket(fd_, peer_address, data);
}

void QuicServer::RemoveClosedSessions() {
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    if ((*it)->connected()) {
      ++it;
      continue;
    }
    QuicServerSessionBase* closed = it->get();
    for (auto* index : {&sessions_by_id_, &sessions_by_initial_id_}) {
      for (auto entry = index->begin(); entry != index->end();) {
        entry = entry->second == closed ? index->erase(entry) : std::next(entry);
      }
    }
    it = sessions_.erase(it);
  }
}

}  // namespace quic
