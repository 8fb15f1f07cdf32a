#include "proxy/ca/certificate_agent.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "config/config_json.h"
#include "proxy/ca/key_and_csr.h"
#include "proxy/log/log.h"

namespace sluice::ca {
namespace {

int64_t secondsUntil(WallTime t, WallTime now) {
  return std::chrono::duration_cast<std::chrono::seconds>(t - now).count();
}

}  // namespace

CertificateAgent::CertificateAgent(event::Loop& loop, config::CaSpec spec, std::string common_name,
                                   std::unique_ptr<CaClient> client, std::function<void()> on_change,
                                   util::RandomSource& random)
    : loop_(loop),
      spec_(std::move(spec)),
      common_name_(std::move(common_name)),
      client_(std::move(client)),
      on_change_(std::move(on_change)),
      random_(random) {
  const char* help = "Certificate requests to the mesh CA by outcome";
  ok_ = stats::namedCounter("sluice_identity_certificate_requests_total", help, {{"result", "ok"}});
  errors_ = stats::namedCounter("sluice_identity_certificate_requests_total", help, {{"result", "error"}});
  expiry_ = stats::namedCounter("sluice_identity_certificate_expiry_seconds",
                                "Seconds until the proxy's own certificate expires", {}, /*gauge=*/true);
}

// The client first: its destructor waits for a call in flight to let go.
CertificateAgent::~CertificateAgent() {
  client_.reset();
  expiry_->inc(-expiry_->value());
}

void CertificateAgent::start() {
  timer_ = loop_.createTimer([this] { request(); });
  request();
}

void CertificateAgent::rotateNow() {
  if (in_flight_) return;
  timer_->disable();
  request();
}

std::string CertificateAgent::readToken(std::string* error) const {
  std::ifstream in(spec_.token_file);
  if (!in) {
    *error = "cannot read token_file '" + spec_.token_file + "'";
    return {};
  }
  std::stringstream text;
  text << in.rdbuf();
  std::string token = text.str();
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) token.pop_back();
  if (token.empty()) *error = "token_file '" + spec_.token_file + "' is empty";
  return token;
}

void CertificateAgent::request() {
  std::string error;
  const std::string token = readToken(&error);
  if (!error.empty()) return fail(error);
  KeyAndCsr made = makeKeyAndCsr(common_name_);
  if (!made.ok()) return fail(made.error);
  in_flight_ = true;
  const int64_t ttl = std::chrono::duration_cast<std::chrono::seconds>(spec_.ttl).count();
  client_->createCertificate(std::move(made.csr_pem), ttl, token,
                             [this, key = std::move(made.private_key_pem)](IssueResult r) mutable {
                               onIssued(key, std::move(r));
                             });
}

void CertificateAgent::onIssued(const std::string& key_pem, IssueResult result) {
  in_flight_ = false;
  if (!result.ok) return fail("CreateCertificate failed: " + result.error);
  if (result.cert_chain.empty()) return fail("the CA answered without a certificate");
  const LeafInfo leaf = leafInfo(result.cert_chain.front());
  if (leaf.public_key_der.empty()) return fail("the CA's leaf certificate does not parse");
  // A certificate for another key would fail every handshake.
  if (leaf.public_key_der != publicKeyOfPrivateKey(key_pem))
    return fail("the CA's certificate is not for the key the agent asked with");
  const WallTime now = std::chrono::system_clock::now();
  if (leaf.not_after <= now) return fail("the CA's certificate has already expired");

  config::SecretSpec s;
  s.name = spec_.secret_name;
  s.kind = config::SecretSpec::Kind::TlsCertificate;
  s.inline_pem = true;
  for (const auto& pem : result.cert_chain) {
    s.cert_chain += pem;
    if (!pem.empty() && pem.back() != '\n') s.cert_chain += '\n';
  }
  s.private_key = key_pem;
  secret_ = std::move(s);
  spiffe_id_ = leaf.spiffe_id;
  not_after_ = leaf.not_after;
  failures_ = 0;
  last_error_.clear();
  ok_->inc();
  const Millis delay = renewalDelay(leaf.not_before, leaf.not_after, now, random_);
  next_request_ = now + delay;
  timer_->enable(delay);
  refreshGauge(now);
  log::info("certificate agent: issued " + (spiffe_id_.empty() ? std::string("(no SPIFFE ID)") : spiffe_id_) +
            " as secret '" + spec_.secret_name + "', expires in " + std::to_string(secondsUntil(not_after_, now)) +
            "s, renewing in " + std::to_string(delay.count() / 1000) + "s");
  on_change_();
}

void CertificateAgent::fail(const std::string& why) {
  in_flight_ = false;
  ++failures_;
  errors_->inc();
  last_error_ = why;
  const Millis delay = retryDelay(failures_, random_);
  next_request_ = std::chrono::system_clock::now() + delay;
  timer_->enable(delay);
  log::warn("certificate agent: " + why + "; retrying in " + config::durationString(delay) +
            (secret_ ? " (the current certificate serves on)" : " (listeners naming secret '" + spec_.secret_name +
                                                                    "' wait for it)"));
}

void CertificateAgent::refreshGauge(WallTime now) {
  const int64_t v = secret_ ? secondsUntil(not_after_, now) : 0;
  expiry_->inc(v - expiry_->value());
}

nlohmann::json CertificateAgent::status() const {
  const WallTime now = std::chrono::system_clock::now();
  nlohmann::json j = {{"secret_name", spec_.secret_name},
                      {"ca_address", spec_.address},
                      {"issued", secret_.has_value()},
                      {"consecutive_failures", failures_},
                      {"seconds_to_next_request", std::max<int64_t>(0, secondsUntil(next_request_, now))}};
  if (secret_) {
    j["spiffe_id"] = spiffe_id_;
    j["seconds_to_expiry"] = secondsUntil(not_after_, now);
  }
  if (!last_error_.empty()) j["last_error"] = last_error_;
  return j;
}

}  // namespace sluice::ca
