//! to be filled.
use super::{Ctx, Plan};
use crate::findings::Finding;
use crate::inventory::Endpoint;

pub fn fix(_ctx: &Ctx, _plan: &mut Plan, _f: &Finding, _e: &Endpoint) -> bool {
    false
}
