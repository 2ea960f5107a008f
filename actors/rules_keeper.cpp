#include "actors/rules_keeper.hpp"

#include "actors/exceptions.hpp"

namespace drover {
namespace {

struct keeper_state {
  std::unique_ptr<platform::redirector> rules;
};

}  // namespace

rules_keeper_actor::behavior_type rules_keeper(rules_keeper_actor::pointer self, std::shared_ptr<engine_env> env,
                                               std::shared_ptr<engine_shared> shared) {
  report_exceptions(self);
  auto st = std::make_shared<keeper_state>();
  self->attach_functor([st] { st->rules.reset(); });
  return {
      [env, st](install_atom, const rules_plan_ptr& plan) -> caf::result<bool> {
        // Rules in place already (a restart, a reopen): swapped in place, so
        // there is no moment without them.
        if (st->rules) {
          if (auto u = st->rules->update(plan->redirect); !u)
            return caf::make_error(caf::sec::runtime_error, u.err().message);
          return true;
        }
        auto r = env->install_redirect(plan->redirect);
        if (!r) return caf::make_error(caf::sec::runtime_error, r.err().message);
        st->rules = std::move(*r);
        return true;
      },
      [st](remove_atom) {
        st->rules.reset();
        return true;
      },
      [st](intact_atom) { return !st->rules || st->rules->intact(); },
      [env, shared](scan_atom) {
        shared->set_targets(env->scan_targets(*shared));
        return true;
      },
  };
}

}  // namespace drover
