#include "control/snapshot_builder.h"

#include <cstdint>
#include <cstdio>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/message.h>

#include "xds/type_urls.h"

namespace sluice::control {
namespace {

namespace pb = google::protobuf;

// FNV-1a, then a finalizer so that short inputs spread over all the bits.
uint64_t hash64(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

void canonicalizeFields(pb::Message& m);

void canonicalizeMessage(pb::Message& m) {
  if (auto* any = dynamic_cast<pb::Any*>(&m)) {
    canonicalize(*any);
    return;
  }
  canonicalizeFields(m);
}

// Only message fields can hold an Any; map entries are messages too, so a
// map<string, Any> (typed_per_filter_config) is reached through its entries.
void canonicalizeFields(pb::Message& m) {
  const pb::Reflection* r = m.GetReflection();
  std::vector<const pb::FieldDescriptor*> fields;
  r->ListFields(m, &fields);
  for (const pb::FieldDescriptor* f : fields) {
    if (f->cpp_type() != pb::FieldDescriptor::CPPTYPE_MESSAGE) continue;
    if (f->is_repeated()) {
      const int n = r->FieldSize(m, f);
      for (int i = 0; i < n; ++i) canonicalizeMessage(*r->MutableRepeatedMessage(&m, f, i));
    } else {
      canonicalizeMessage(*r->MutableMessage(&m, f));
    }
  }
}

std::string deterministicBytes(const pb::Message& m) {
  std::string out;
  {
    pb::io::StringOutputStream stream(&out);
    pb::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    m.SerializeToCodedStream(&coded);
  }
  return out;
}

std::string typeVersion(const TypeSnapshot& t) {
  std::string all;
  for (const auto& [name, entry] : t.resources) {
    all += name;
    all += '\0';
    all += entry.version;
    all += '\n';
  }
  return contentVersion(all);
}

std::shared_ptr<const GroupSnapshot> emptySnapshot(const std::string& group) {
  auto snap = std::make_shared<GroupSnapshot>();
  snap->group = group;
  for (std::string_view type : xds::kSendOrder) {
    TypeSnapshot& t = snap->types[std::string(type)];
    t.version = typeVersion(t);
  }
  return snap;
}

}  // namespace

std::string contentVersion(std::string_view bytes) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(hash64(bytes)));
  return std::string(buf, 12);
}

void canonicalize(pb::Any& any) {
  const std::string_view url = any.type_url();
  const size_t slash = url.rfind('/');
  const std::string full_name(slash == std::string_view::npos ? url : url.substr(slash + 1));
  const pb::Descriptor* d = pb::DescriptorPool::generated_pool()->FindMessageTypeByName(full_name);
  if (d == nullptr) return;
  const pb::Message* prototype = pb::MessageFactory::generated_factory()->GetPrototype(d);
  if (prototype == nullptr) return;
  std::unique_ptr<pb::Message> m(prototype->New());
  if (!m->ParseFromString(any.value())) return;
  canonicalizeFields(*m);
  any.set_value(deterministicBytes(*m));
}

std::shared_ptr<const GroupSnapshot> buildSnapshot(const std::string& group,
                                                   std::shared_ptr<const config::Config> cfg) {
  auto snap = std::make_shared<GroupSnapshot>();
  snap->group = group;
  for (std::string_view type : xds::kSendOrder) snap->types[std::string(type)];
  for (auto& [type, list] : xds::toEnvoy(*cfg)) {
    TypeSnapshot& t = snap->types[type];
    for (auto& res : list) {
      canonicalize(res.body);
      TypeSnapshot::Entry e;
      e.version = contentVersion(res.body.value());
      e.body = std::move(res.body);
      t.resources.insert_or_assign(res.name, std::move(e));
    }
  }
  for (auto& [type, t] : snap->types) t.version = typeVersion(t);
  if (!cfg->route_configs.empty()) {
    // The config is immutable and shared: the function may outlive this
    // load and run on any of the server's threads.
    snap->on_demand_listener = [cfg](std::string_view name) -> std::optional<xds::Resource> {
      auto r = xds::proxylessListener(*cfg, name);
      if (r) canonicalize(r->body);
      return r;
    };
  }
  return snap;
}

SnapshotBuilder::Update SnapshotBuilder::update(const ControlConfig& cfg) {
  Update out;
  std::map<std::string, Built> next;
  for (const GroupSpec& g : cfg.groups) {
    auto it = groups_.find(g.name);
    if (it != groups_.end() && it->second.input == g.input) {
      // groups_ is replaced below: its entry moves rather than copies its input.
      next.emplace(g.name, std::move(it->second));
    } else {
      Built b{g.input, buildSnapshot(g.name, g.config)};
      ++builds_;
      out.changed.push_back(b.snapshot);
      next.emplace(g.name, std::move(b));
    }
    out.all.emplace(g.name, next.at(g.name).snapshot);
  }
  for (const auto& [name, built] : groups_)
    if (next.count(name) == 0) out.changed.push_back(emptySnapshot(name));
  groups_ = std::move(next);
  return out;
}

}  // namespace sluice::control
