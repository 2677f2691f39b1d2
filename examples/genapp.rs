//! Generate a synthetic AI application monorepo for benchmarks in which
//! most files are application code that import each other (engine v2's
//! slow path, unlike `gentree`'s mostly unrelated files): a FastAPI backend
//! (pydantic models, service classes calling each other, routers mounted by
//! one app, an auth dependency, a LangChain/OpenAI client used by one
//! service in 25, modules importing mostly their neighbours) and a Next.js frontend (components importing
//! components, `"use client"` components with effects that fetch the API,
//! library modules, route handlers, an AI SDK module). Deterministic
//! (seeded). Half the files are Python, half TypeScript.
//!
//! cargo run --release --example genapp -- OUT_DIR FILES [SEED]

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: genapp OUT_DIR FILES [SEED]");
        std::process::exit(2);
    }
    let out = Path::new(&args[1]);
    let files: usize = args[2].parse().expect("FILES is a number");
    let seed: u64 = args
        .get(3)
        .map(|s| s.parse().expect("SEED is a number"))
        .unwrap_or(7);
    let mut rng = fastrand::Rng::with_seed(seed);
    if out.exists() {
        fs::remove_dir_all(out).expect("clear OUT_DIR");
    }
    let write = |rel: &str, text: &str| {
        let path = out.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    };
    write(
        ".gitignore",
        "node_modules/\n.next/\n.env\n.env.*\n!.env.example\n__pycache__/\n",
    );
    // Shares of the tree, in files per 100.
    let n = |share: usize| (files * share / 100).max(1);
    let (models, services, routers, utils) = (n(14), n(20), n(8), n(8));
    let (components, libs, routes) = (n(28), n(15), n(5));
    write(
        "apps/api/requirements.txt",
        "fastapi\nopenai\nlangchain-openai\npydantic\n",
    );
    write("apps/api/app/__init__.py", "");
    write("apps/api/app/llm.py", LLM_PY);
    write("apps/api/app/deps.py", DEPS_PY);
    write("apps/api/app/main.py", &main_py(routers));
    for k in 0..models {
        write(
            &format!("apps/api/app/models/m{k}.py"),
            &model_py(k, &mut rng),
        );
    }
    for k in 0..services {
        write(
            &format!("apps/api/app/services/s{k}.py"),
            &service_py(k, models, &mut rng),
        );
    }
    for k in 0..routers {
        write(
            &format!("apps/api/app/routers/r{k}.py"),
            &router_py(k, services, models, &mut rng),
        );
    }
    for k in 0..utils {
        write(
            &format!("apps/api/app/utils/u{k}.py"),
            &util_py(k, &mut rng),
        );
    }
    write(
        "apps/web/package.json",
        "{ \"name\": \"web\", \"private\": true, \"dependencies\": { \"next\": \"15.0.0\", \"react\": \"19.0.0\", \"ai\": \"4.0.0\", \"@ai-sdk/openai\": \"1.0.0\" } }\n",
    );
    write("apps/web/lib/ai.ts", AI_TS);
    for k in 0..libs {
        write(&format!("apps/web/lib/l{k}.ts"), &lib_ts(k, &mut rng));
    }
    for k in 0..components {
        write(
            &format!("apps/web/components/C{k}.tsx"),
            &component_tsx(k, libs, routes, &mut rng),
        );
    }
    for k in 0..routes {
        write(
            &format!("apps/web/app/api/r{k}/route.ts"),
            &route_ts(k, libs, &mut rng),
        );
    }
    let total = 3 + models + services + routers + utils + 1 + libs + components + routes;
    eprintln!("wrote {total} files to {}", out.display());
}

const LLM_PY: &str = r#"from langchain_core.prompts import ChatPromptTemplate
from langchain_openai import ChatOpenAI
from openai import OpenAI

client = OpenAI()
llm = ChatOpenAI(model="gpt-4o-mini", max_tokens=500)
prompt = ChatPromptTemplate.from_messages([("user", "{question}")])
chain = prompt | llm


def complete(question: str) -> str:
    reply = client.chat.completions.create(
        model="gpt-4o-mini",
        max_tokens=500,
        messages=[{"role": "user", "content": question}],
    )
    return reply.choices[0].message.content or ""
"#;

const DEPS_PY: &str = r#"from fastapi import Header, HTTPException


async def get_current_user(authorization: str = Header("")) -> str:
    if not authorization.startswith("Bearer "):
        raise HTTPException(status_code=401, detail="not signed in")
    return authorization.removeprefix("Bearer ")
"#;

const AI_TS: &str = r#"import { openai } from "@ai-sdk/openai";
import { generateText } from "ai";

export async function answer(question: string): Promise<string> {
  const { text } = await generateText({ model: openai("gpt-4o-mini"), prompt: question, maxTokens: 400 });
  return text;
}
"#;

fn main_py(routers: usize) -> String {
    let mut s = String::from("from fastapi import FastAPI\n\n");
    for k in 0..routers {
        let _ = writeln!(s, "from app.routers import r{k}");
    }
    s.push_str("\napp = FastAPI()\n");
    for k in 0..routers {
        let _ = writeln!(s, "app.include_router(r{k}.router, prefix=\"/api/r{k}\")");
    }
    s
}

/// Up to `count` indices below `below`, mostly in its own package (a
/// cluster of 12 modules): real modules import their siblings and lower
/// layers, not a chain through the whole tree.
fn pick(rng: &mut fastrand::Rng, below: usize, count: usize) -> Vec<usize> {
    let from = below / 12 * 12;
    let mut out: Vec<usize> = (0..count)
        .filter_map(|_| match rng.usize(0..20) {
            0 => Some(rng.usize(0..below.max(1))),
            _ if from < below => Some(rng.usize(from..below)),
            _ => None,
        })
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// `count` indices anywhere below `below` (a router uses any service).
fn pick_any(rng: &mut fastrand::Rng, below: usize, count: usize) -> Vec<usize> {
    let mut out: Vec<usize> = (0..count).map(|_| rng.usize(0..below.max(1))).collect();
    out.sort_unstable();
    out.dedup();
    out
}

fn model_py(k: usize, rng: &mut fastrand::Rng) -> String {
    let mut s =
        String::from("from datetime import datetime\n\nfrom pydantic import BaseModel, Field\n");
    let refs = if k > 0 { pick(rng, k, 2) } else { Vec::new() };
    for r in &refs {
        let _ = writeln!(s, "from app.models.m{r} import Model{r}");
    }
    let _ = writeln!(s, "\n\nclass Model{k}(BaseModel):");
    for f in 0..rng.usize(20..60) {
        let _ = writeln!(
            s,
            "    field_{f}: str = Field(default=\"\", max_length={})",
            64 + f
        );
    }
    s.push_str("    created_at: datetime | None = None\n");
    for r in &refs {
        let _ = writeln!(s, "    link_{r}: Model{r} | None = None");
    }
    let _ = writeln!(
        s,
        "\n    def summary(self) -> str:\n        return \" \".join(str(v) for v in self.model_dump().values())\n"
    );
    s
}

fn service_py(k: usize, models: usize, rng: &mut fastrand::Rng) -> String {
    let uses_llm = k % 25 == 3;
    let mut s = String::from("import logging\n\n");
    if uses_llm {
        s.push_str("from app.llm import chain, complete\n");
    }
    let deps = if k > 0 { pick(rng, k, 3) } else { Vec::new() };
    for d in &deps {
        let _ = writeln!(s, "from app.services.s{d} import Service{d}");
    }
    let m = rng.usize(0..models.max(1));
    let _ = writeln!(
        s,
        "from app.models.m{m} import Model{m}\n\nlog = logging.getLogger(__name__)\n"
    );
    let _ = writeln!(s, "\nclass Service{k}:");
    s.push_str("    def __init__(self) -> None:\n");
    for d in &deps {
        let _ = writeln!(s, "        self.s{d} = Service{d}()");
    }
    s.push_str("        self.cache: dict[str, str] = {}\n\n");
    let _ = writeln!(s, "    def run(self, item: Model{m}) -> str:");
    s.push_str("        log.info(\"run %s\", item)\n        parts = [item.summary()]\n");
    for d in &deps {
        let _ = writeln!(
            s,
            "        parts.append(self.s{d}.describe(item.summary()))"
        );
    }
    if uses_llm {
        s.push_str(
            "        parts.append(chain.invoke({\"question\": \" \".join(parts)}).content)\n",
        );
        s.push_str("        parts.append(complete(parts[-1]))\n");
    }
    s.push_str("        return \"\\n\".join(parts)\n\n");
    s.push_str("    def describe(self, text: str) -> str:\n        if text in self.cache:\n            return self.cache[text]\n");
    for line in 0..rng.usize(20..70) {
        let _ = writeln!(
            s,
            "        text = text.replace(\"{line}\", \"#{line}\").strip()"
        );
    }
    s.push_str("        self.cache[text] = text\n        return text\n");
    s
}

fn router_py(k: usize, services: usize, models: usize, rng: &mut fastrand::Rng) -> String {
    let mut s = String::from(
        "from fastapi import APIRouter, Depends\n\nfrom app.deps import get_current_user\n",
    );
    let svc = pick_any(rng, services, 2);
    for d in &svc {
        let _ = writeln!(s, "from app.services.s{d} import Service{d}");
    }
    let m = rng.usize(0..models.max(1));
    let _ = writeln!(
        s,
        "from app.models.m{m} import Model{m}\n\nrouter = APIRouter()\n"
    );
    for (i, d) in svc.iter().enumerate() {
        let auth = if i % 2 == 0 {
            ", user: str = Depends(get_current_user)"
        } else {
            ""
        };
        let _ = writeln!(
            s,
            "\n@router.post(\"/run{i}\")\nasync def run_{k}_{i}(item: Model{m}{auth}) -> dict:\n    return {{\"result\": Service{d}().run(item)}}\n"
        );
    }
    let _ = writeln!(
        s,
        "\n@router.get(\"/health\")\nasync def health_{k}() -> dict:\n    return {{\"ok\": True}}"
    );
    s
}

fn util_py(k: usize, rng: &mut fastrand::Rng) -> String {
    let mut s = String::from("import re\n\n");
    for f in 0..rng.usize(15..45) {
        let _ = writeln!(
            s,
            "\ndef helper_{k}_{f}(value: str) -> str:\n    value = re.sub(r\"\\s+\", \" \", value)\n    return value.strip().lower()[: {}]\n",
            40 + f
        );
    }
    s
}

fn lib_ts(k: usize, rng: &mut fastrand::Rng) -> String {
    let mut s = String::new();
    for d in if k > 0 { pick(rng, k, 2) } else { Vec::new() } {
        let _ = writeln!(s, "import {{ format{d} }} from \"./l{d}\";");
    }
    if k % 25 == 4 {
        s.push_str("import { answer } from \"@/lib/ai\";\n");
    }
    let _ = writeln!(
        s,
        "\nexport type Row{k} = {{ id: string; label: string; score: number }};\n"
    );
    let _ = writeln!(
        s,
        "export function format{k}(rows: Row{k}[]): string {{\n  return rows.map((r) => `${{r.id}}:${{r.label}}`).join(\", \");\n}}\n"
    );
    if k % 25 == 4 {
        let _ = writeln!(
            s,
            "export async function explain{k}(rows: Row{k}[]): Promise<string> {{\n  return answer(format{k}(rows));\n}}\n"
        );
    }
    for f in 0..rng.usize(15..45) {
        let _ = writeln!(
            s,
            "export const pick{k}_{f} = (rows: Row{k}[]) => rows.filter((r) => r.score > {f}).slice(0, {});\n",
            10 + f
        );
    }
    s
}

fn component_tsx(k: usize, libs: usize, routes: usize, rng: &mut fastrand::Rng) -> String {
    let client = k.is_multiple_of(3);
    let mut s = String::new();
    if client {
        s.push_str("\"use client\";\n\nimport { useEffect, useState } from \"react\";\n");
    }
    let children = if k > 0 { pick(rng, k, 3) } else { Vec::new() };
    for c in &children {
        let _ = writeln!(s, "import C{c} from \"./C{c}\";");
    }
    let l = rng.usize(0..libs.max(1));
    let _ = writeln!(s, "import {{ format{l} }} from \"@/lib/l{l}\";\n");
    let _ = writeln!(
        s,
        "export default function C{k}({{ title }}: {{ title: string }}) {{"
    );
    if client {
        let r = rng.usize(0..routes.max(1));
        let _ = writeln!(
            s,
            "  const [data, setData] = useState<string>(\"\");\n  useEffect(() => {{\n    fetch(\"/api/r{r}\").then((r) => r.text()).then(setData);\n  }}, [title]);"
        );
    }
    s.push_str("  return (\n    <section className=\"card\">\n      <h2>{title}</h2>\n");
    let _ = writeln!(s, "      <p>{{format{l}([])}}</p>");
    for c in &children {
        let _ = writeln!(s, "      <C{c} title=\"{c}\" />");
    }
    for i in 0..rng.usize(20..70) {
        let _ = writeln!(s, "      <div className=\"row-{i}\">item {i} of {k}</div>");
    }
    s.push_str("    </section>\n  );\n}\n");
    s
}

fn route_ts(k: usize, libs: usize, rng: &mut fastrand::Rng) -> String {
    let l = rng.usize(0..libs.max(1));
    format!(
        "import {{ NextResponse }} from \"next/server\";\nimport {{ format{l} }} from \"@/lib/l{l}\";\n\n\
         export async function GET() {{\n  return NextResponse.json({{ route: {k}, text: format{l}([]) }});\n}}\n\n\
         export async function POST(req: Request) {{\n  const body = await req.json();\n  return NextResponse.json({{ ok: true, body, text: format{l}([]) }});\n}}\n"
    )
}
