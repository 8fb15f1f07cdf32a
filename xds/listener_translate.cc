#include "xds/listener_translate.h"

#include <algorithm>

#include "xds/cluster_metadata.h"
#include "xds/cluster_translate.h"
#include "xds/listener_filters_translate.h"
#include "xds/sluice_metadata.h"
#include "xds/unsupported_fields.h"

namespace sluice::xds {
namespace {

using config::DownstreamTlsConfig;
using config::FilterChainConfig;
using config::FilterChainMatch;
using google::protobuf::Struct;

constexpr std::string_view kTlsInspectorName = "envoy.filters.listener.tls_inspector";
// Not in the compiled closure; the message is empty, so its Any is the type URL alone.
constexpr std::string_view kTlsInspectorType =
    "type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector";
constexpr std::string_view kTlsSocketName = "envoy.transport_sockets.tls";
// Envoy reads SO_ORIGINAL_DST in this listener filter; Sluice does it for a
// use_original_dst listener. Sent beside use_original_dst so that an Envoy
// given the same listener recovers the destination too.
constexpr std::string_view kOriginalDstName = "envoy.filters.listener.original_dst";
constexpr std::string_view kOriginalDstType =
    "type.googleapis.com/envoy.extensions.filters.listener.original_dst.v3.OriginalDst";

void tlsToEnvoy(const DownstreamTlsConfig& t, envoy_listener::FilterChain& out) {
  envoy_tls::DownstreamTlsContext ctx;
  downstreamTlsToEnvoy(t, ctx);
  out.mutable_transport_socket()->set_name(std::string(kTlsSocketName));
  out.mutable_transport_socket()->mutable_typed_config()->PackFrom(ctx);
  // Envoy's bound on the handshake (DownstreamTlsContext has none).
  toProto(t.handshake_timeout, *out.mutable_transport_socket_connect_timeout());
}

void chainToEnvoy(const std::vector<config::NetworkFilterEntry>& filters, const FilterChainMatch& match,
                  const std::optional<DownstreamTlsConfig>& tls, const std::string& listener,
                  envoy_listener::FilterChain& out) {
  auto* m = out.mutable_filter_chain_match();
  if (match.destination_port) m->mutable_destination_port()->set_value(*match.destination_port);
  for (const auto& p : match.prefix_ranges) {
    auto* r = m->add_prefix_ranges();
    const std::string text = p.str();
    r->set_address_prefix(text.substr(0, text.find('/')));
    r->mutable_prefix_len()->set_value(p.prefixLength());
  }
  for (const auto& s : match.server_names) m->add_server_names(s);
  if (match.transport_protocol == FilterChainMatch::Transport::Tls) m->set_transport_protocol("tls");
  if (match.transport_protocol == FilterChainMatch::Transport::RawBuffer) m->set_transport_protocol("raw_buffer");
  for (const auto& a : match.application_protocols) m->add_application_protocols(a);
  if (match.empty()) out.clear_filter_chain_match();
  if (tls) tlsToEnvoy(*tls, out);
  Struct& sluice = sluiceMetadata(*out.mutable_metadata());
  for (const auto& f : filters) networkFilterToEnvoy(f, listener, *out.add_filters(), sluice);
  if (sluice.fields().empty()) out.clear_metadata();
}

bool needsInspector(const envoy_listener::Listener& l) {
  return std::any_of(l.filter_chains().begin(), l.filter_chains().end(), [](const envoy_listener::FilterChain& c) {
    return c.has_filter_chain_match();
  });
}

// ---- in ----

FieldError addressFromEnvoy(const envoy::config::core::v3::Address& a, std::string_view path, ip::Address& out) {
  if (!a.has_socket_address()) return {std::string(path), "Sluice listens on socket addresses only"};
  const auto& s = a.socket_address();
  const std::string sp = fieldPath(path, "socket_address");
  // ipv4_compat: Sluice's [::] always takes IPv4 too (as ::ffff:a.b.c.d),
  // which is what an Envoy server asks of "::" with it set.
  if (auto e = unsupportedField(s, sp, {"protocol", "address", "port_value", "ipv4_compat"}); !e.empty()) return e;
  if (s.protocol() != envoy::config::core::v3::SocketAddress::TCP) return {fieldPath(sp, "protocol"), "Sluice takes TCP only"};
  const bool v6 = s.address().find(':') != std::string::npos;
  const std::string text = (v6 ? "[" + s.address() + "]" : s.address()) + ":" + std::to_string(s.port_value());
  auto parsed = ip::Address::parse(text);
  if (!parsed) return {fieldPath(sp, "address"), "'" + s.address() + "' is not an IP address (Sluice resolves no names)"};
  out = *parsed;
  return {};
}

FieldError matchFromEnvoy(const envoy_listener::FilterChainMatch& m, std::string_view path, FilterChainMatch& out) {
  if (auto e = unsupportedField(m, path,
                                {"destination_port", "prefix_ranges", "server_names", "transport_protocol",
                                 "application_protocols"});
      !e.empty())
    return e;
  if (m.has_destination_port()) {
    const uint32_t port = m.destination_port().value();
    if (port < 1 || port > 65535) return {fieldPath(path, "destination_port"), "must be 1..65535"};
    out.destination_port = static_cast<uint16_t>(port);
  }
  for (int i = 0; i < m.prefix_ranges_size(); ++i) {
    const auto& r = m.prefix_ranges(i);
    std::string text = r.address_prefix();
    if (r.has_prefix_len()) text += "/" + std::to_string(r.prefix_len().value());
    std::string why;
    auto cidr = ip::Cidr::parse(text, &why);
    if (!cidr) return {indexPath(fieldPath(path, "prefix_ranges"), i), "'" + text + "': " + why};
    out.prefix_ranges.push_back(*cidr);
  }
  for (const auto& s : m.server_names()) {
    std::string lower = s;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    out.server_names.push_back(std::move(lower));
  }
  if (m.transport_protocol() == "tls") out.transport_protocol = FilterChainMatch::Transport::Tls;
  else if (m.transport_protocol() == "raw_buffer") out.transport_protocol = FilterChainMatch::Transport::RawBuffer;
  else if (!m.transport_protocol().empty())
    return {fieldPath(path, "transport_protocol"), "'" + m.transport_protocol() + "': Sluice takes tls or raw_buffer"};
  out.application_protocols.assign(m.application_protocols().begin(), m.application_protocols().end());
  return {};
}

FieldError chainFromEnvoy(const envoy_listener::FilterChain& c, std::string_view path, const std::string& scope,
                          FilterChainConfig& out, std::vector<config::RouteConfigEntry>& inline_routes) {
  if (auto e = unsupportedField(c, path,
                                {"filter_chain_match", "filters", "metadata", "transport_socket", "name",
                                 "transport_socket_connect_timeout"});
      !e.empty())
    return e;
  if (auto e = matchFromEnvoy(c.filter_chain_match(), fieldPath(path, "filter_chain_match"), out.match); !e.empty())
    return e;
  if (c.has_transport_socket()) {
    const auto& ts = c.transport_socket();
    const std::string tp = fieldPath(path, "transport_socket");
    envoy_tls::DownstreamTlsContext ctx;
    if (!ts.typed_config().Is<envoy_tls::DownstreamTlsContext>())
      return {fieldPath(tp, "typed_config"), "Sluice takes envoy.transport_sockets.tls with a DownstreamTlsContext only"};
    if (!ts.typed_config().UnpackTo(&ctx)) return {fieldPath(tp, "typed_config"), "cannot decode DownstreamTlsContext"};
    DownstreamTlsConfig t;
    if (auto e = downstreamTlsFromEnvoy(ctx, t); !e.empty())
      return {fieldPath(fieldPath(tp, "typed_config"), e.path), e.message};
    if (c.has_transport_socket_connect_timeout()) {
      if (!fromProto(c.transport_socket_connect_timeout(), t.handshake_timeout) || t.handshake_timeout.count() <= 0)
        return {fieldPath(path, "transport_socket_connect_timeout"), "must be a positive duration"};
    }
    if (out.match.transport_protocol == FilterChainMatch::Transport::RawBuffer)
      return {fieldPath(path, "filter_chain_match.transport_protocol"), "a chain with TLS cannot match raw_buffer"};
    out.match.transport_protocol = FilterChainMatch::Transport::Tls;
    out.tls = std::move(t);
  }
  const Struct* sluice = findSluiceMetadata(c.metadata());
  if (auto e = StructFields(sluice, fieldPath(path, "metadata.io.sluice"))
                   .onlyKeys({"http", "http_filters", "network_filters"});
      !e.empty())
    return e;
  const std::string fp = fieldPath(path, "filters");
  if (c.filters_size() == 0) return {fp, "needs a terminal network filter (http_connection_manager or tcp_proxy)"};
  for (int i = 0; i < c.filters_size(); ++i) {
    config::NetworkFilterEntry f;
    if (auto e = networkFilterFromEnvoy(c.filters(i), indexPath(fp, i), sluice, scope, f, inline_routes); !e.empty())
      return e;
    const bool last = i + 1 == c.filters_size();
    if (f.reader->terminal() != last)
      return {indexPath(fp, i), last ? "the last network filter must be terminal (http_connection_manager or tcp_proxy)"
                                     : "a terminal network filter must come last"};
    out.filters.push_back(std::move(f));
  }
  if (const auto* nf = sluice ? &sluice->fields() : nullptr; nf != nullptr && nf->count("network_filters") != 0)
    for (const auto& field : nf->at("network_filters").struct_value().fields()) {
      const std::string& name = field.first;
      const bool listed = std::any_of(c.filters().begin(), c.filters().end(),
                                      [&](const envoy_listener::Filter& f) { return f.name() == name; });
      if (!listed) return {fieldPath(path, "metadata.io.sluice.network_filters." + name), "no network filter of that name"};
    }
  return {};
}

bool sameFilters(const std::vector<config::NetworkFilterEntry>& a, const std::vector<config::NetworkFilterEntry>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].name != b[i].name || a[i].spec->toJson() != b[i].spec->toJson()) return false;
  return true;
}

}  // namespace

void listenerToEnvoy(const config::ListenerConfig& l, envoy_listener::Listener& out) {
  out.set_name(l.name);
  auto* sa = out.mutable_address()->mutable_socket_address();
  sa->set_address(l.address.ip());
  sa->set_port_value(l.address.port());
  // Sluice's [::] is dual-stack; Envoy's only with ipv4_compat.
  if (sa->address() == "::") sa->set_ipv4_compat(true);
  out.mutable_per_connection_buffer_limit_bytes()->set_value(l.per_connection_buffer_limit_bytes);
  if (l.max_connections != 0)
    (*sluiceMetadata(*out.mutable_metadata()).mutable_fields())["max_connections"].set_number_value(l.max_connections);

  if (l.filter_chains.empty()) {
    if (l.tls && l.tls->mode == DownstreamTlsConfig::Mode::Permissive) {
      FilterChainMatch tls_match, raw_match;
      tls_match.transport_protocol = FilterChainMatch::Transport::Tls;
      raw_match.transport_protocol = FilterChainMatch::Transport::RawBuffer;
      chainToEnvoy(l.filters, tls_match, l.tls, l.name, *out.add_filter_chains());
      chainToEnvoy(l.filters, raw_match, std::nullopt, l.name, *out.add_filter_chains());
    } else {
      chainToEnvoy(l.filters, {}, l.tls, l.name, *out.add_filter_chains());
    }
  } else {
    for (size_t i = 0; i < l.filter_chains.size(); ++i) {
      const auto& c = l.filter_chains[i];
      auto* fc = out.add_filter_chains();
      fc->set_name(l.name + "." + std::to_string(i));
      chainToEnvoy(c.filters, c.match, c.tls, l.name, *fc);
    }
  }
  if (l.use_original_dst) {
    out.mutable_use_original_dst()->set_value(true);
    auto* lf = out.add_listener_filters();
    lf->set_name(std::string(kOriginalDstName));
    lf->mutable_typed_config()->set_type_url(std::string(kOriginalDstType));
  }
  if (needsInspector(out)) {
    auto* lf = out.add_listener_filters();
    lf->set_name(std::string(kTlsInspectorName));
    lf->mutable_typed_config()->set_type_url(std::string(kTlsInspectorType));
  }
}

FieldError listenerFromEnvoy(const envoy_listener::Listener& in, config::ListenerConfig& out,
                             std::vector<config::RouteConfigEntry>& inline_routes) {
  if (in.has_api_listener() && !in.has_address())
    return {"address", "required (api_listener is for proxyless clients)"};
  // Accepted and ignored: statistics, draining style, socket reuse, timeouts
  // of the (only) listener filter Sluice knows.
  if (auto e = unsupportedField(in, "",
                                {"name", "address", "filter_chains", "per_connection_buffer_limit_bytes", "metadata",
                                 "listener_filters", "stat_prefix", "traffic_direction", "drain_type",
                                 "listener_filters_timeout", "continue_on_listener_filters_timeout",
                                 "enable_reuse_port", "reuse_port", "use_original_dst"});
      !e.empty())
    return e;
  if (in.name().empty()) return {"name", "required"};
  out.name = in.name();
  if (!in.has_address()) return {"address", "required (api_listener is for proxyless clients)"};
  if (auto e = addressFromEnvoy(in.address(), "address", out.address); !e.empty()) return e;
  if (in.has_per_connection_buffer_limit_bytes()) {
    const uint32_t v = in.per_connection_buffer_limit_bytes().value();
    if (v < 1024 || v > (64u << 20)) return {"per_connection_buffer_limit_bytes", "must be 1024..67108864"};
    out.per_connection_buffer_limit_bytes = v;
  }
  if (auto e = StructFields(findSluiceMetadata(in.metadata()), "metadata.io.sluice").onlyKeys({"max_connections"});
      !e.empty())
    return e;
  if (const Struct* s = findSluiceMetadata(in.metadata())) {
    const auto it = s->fields().find("max_connections");
    if (it != s->fields().end()) {
      const double d = it->second.number_value();
      if (!(d >= 0 && d <= UINT32_MAX) || d != static_cast<double>(static_cast<uint64_t>(d)))
        return {"metadata.io.sluice.max_connections", "must be a whole number 0..4294967295"};
      out.max_connections = static_cast<uint32_t>(d);
    }
  }
  out.use_original_dst = in.has_use_original_dst() && in.use_original_dst().value();
  for (int i = 0; i < in.listener_filters_size(); ++i) {
    const auto& lf = in.listener_filters(i);
    const bool inspector = lf.name() == kTlsInspectorName || lf.typed_config().type_url() == kTlsInspectorType;
    // Envoy's way of asking for the original destination: Sluice's is use_original_dst.
    const bool original_dst = lf.name() == kOriginalDstName || lf.typed_config().type_url() == kOriginalDstType;
    if (original_dst) out.use_original_dst = true;
    if (!inspector && !original_dst)
      return {indexPath("listener_filters", i),
              "'" + lf.name() +
                  "' is not supported by Sluice (only the TLS inspector, which it always runs, and original_dst)"};
  }
  if (in.filter_chains_size() == 0) return {"filter_chains", "needs at least one filter chain"};

  std::vector<FilterChainConfig> chains;
  for (int i = 0; i < in.filter_chains_size(); ++i) {
    FilterChainConfig c;
    const std::string scope = in.filter_chains_size() == 1 ? out.name : out.name + "." + std::to_string(i);
    if (auto e = chainFromEnvoy(in.filter_chains(i), indexPath("filter_chains", i), scope, c, inline_routes);
        !e.empty())
      return e;
    chains.push_back(std::move(c));
  }
  // The single-chain form and the PERMISSIVE pair come back as they were written.
  if (chains.size() == 1 && !chains[0].match.hasDestination() && chains[0].match.server_names.empty() &&
      chains[0].match.application_protocols.empty() &&
      (chains[0].match.transport_protocol == FilterChainMatch::Transport::Any || chains[0].tls)) {
    out.filters = std::move(chains[0].filters);
    out.tls = std::move(chains[0].tls);
    return {};
  }
  const auto permissive_pair = [&] {
    if (chains.size() != 2 || !chains[0].tls || chains[1].tls) return false;
    const FilterChainMatch& a = chains[0].match;
    const FilterChainMatch& b = chains[1].match;
    return !a.hasDestination() && !b.hasDestination() && a.transport_protocol == FilterChainMatch::Transport::Tls &&
           a.server_names.empty() &&
           a.application_protocols.empty() && b.transport_protocol == FilterChainMatch::Transport::RawBuffer &&
           b.server_names.empty() && b.application_protocols.empty() && sameFilters(chains[0].filters, chains[1].filters);
  };
  if (permissive_pair()) {
    out.filters = std::move(chains[0].filters);
    out.tls = std::move(chains[0].tls);
    out.tls->mode = DownstreamTlsConfig::Mode::Permissive;
    return {};
  }
  out.filter_chains = std::move(chains);
  return {};
}

}  // namespace sluice::xds
