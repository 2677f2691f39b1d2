//! quota: to be filled.
use super::{Ctx, Plan};
use crate::findings::Finding;

pub fn fix(ctx: &Ctx, plan: &mut Plan, f: &Finding) {
    super::manual(ctx, plan, f)
}
