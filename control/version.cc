// Placeholder so the library has a source (replaced before merge).
namespace sluice::control {}
