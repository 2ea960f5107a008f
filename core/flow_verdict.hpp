#pragma once
/// The first-packet verdict as a pure function (stub, filled in below).
namespace drover::verdict_logic {}
