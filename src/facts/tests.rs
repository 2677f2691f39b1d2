use super::*;

fn facts(path: &str, code: &str) -> FileFacts {
    let lang = Lang::from_path(std::path::Path::new(path)).unwrap();
    FileFacts::of_source(path, lang, code.as_bytes())
}

#[test]
fn python_imports_functions_decorators_and_calls() {
    let f = facts(
        "app/main.py",
        r#"import openai as oa
from fastapi import FastAPI, Depends
from .llm import complete as run

app = FastAPI()

@app.post("/chat")
@limiter.limit("5/minute")
async def chat(request: Request, body: Body):
    client = oa.OpenAI()
    return client.chat.completions.create(model="gpt-4o", max_tokens=100)
"#,
    );
    assert_eq!(f.import_of("oa").unwrap().module, "openai");
    let run = f.import_of("run").unwrap();
    assert_eq!(
        (run.module.as_str(), run.name.as_deref()),
        (".llm", Some("complete"))
    );
    let chat = &f.functions[0];
    assert_eq!(
        (chat.name.as_str(), chat.line, chat.is_async),
        ("chat", 7, true)
    );
    assert_eq!(chat.params, vec!["request: Request", "body: Body"]);
    let decorators: Vec<&str> = chat.decorators.iter().map(|d| d.callee.as_str()).collect();
    assert_eq!(decorators, vec!["app.post", "limiter.limit"]);
    assert_eq!(chat.decorators[0].args[0].text, "\"/chat\"");
    let create = f
        .calls
        .iter()
        .find(|c| c.callee == "client.chat.completions.create")
        .unwrap();
    assert_eq!((create.line, create.in_function), (11, Some(0)));
    let kw: Vec<_> = create
        .args
        .iter()
        .filter_map(|a| a.keyword.as_deref())
        .collect();
    assert_eq!(kw, vec!["model", "max_tokens"]);
    assert!(f
        .assignments
        .iter()
        .any(|a| a.target == "client" && a.value_callee.as_deref() == Some("oa.OpenAI")));
}

#[test]
fn js_imports_directives_exports_and_handlers() {
    let f = facts(
        "app/api/chat/route.ts",
        r#""use server";
import OpenAI from "openai";
import * as ai from "ai";
import { generateText as gen } from "ai";
const { Anthropic } = require("@anthropic-ai/sdk");

export async function POST(req: Request) {
  const client = new OpenAI();
  return gen({ model: m, prompt: "hi", maxTokens: 50 });
}

export const GET = async () => ai.streamText({});

app.post("/chat", async (c) => { await client.chat.completions.create({}); });
"#,
    );
    assert!(f.has_directive("use server"));
    assert_eq!(
        f.import_of("OpenAI").unwrap().name.as_deref(),
        Some("default")
    );
    assert_eq!(f.import_of("ai").unwrap().name, None);
    assert_eq!(
        f.import_of("gen").unwrap().name.as_deref(),
        Some("generateText")
    );
    assert_eq!(
        f.import_of("Anthropic").unwrap().module,
        "@anthropic-ai/sdk"
    );
    let post = f.functions.iter().position(|x| x.name == "POST").unwrap();
    assert!(f.functions[post].exported && f.functions[post].is_async);
    let get = f.functions.iter().find(|x| x.name == "GET").unwrap();
    assert!(get.exported);
    let new_client = f.calls.iter().find(|c| c.callee == "OpenAI").unwrap();
    assert!(new_client.is_new);
    let gen = f.calls.iter().find(|c| c.callee == "gen").unwrap();
    assert_eq!(gen.in_function, Some(post));
    assert!(gen.args[0]
        .pairs
        .iter()
        .any(|(k, v)| k == "maxTokens" && v == "50"));
    let route = f.calls.iter().find(|c| c.callee == "app.post").unwrap();
    let handler = route.args[1].function.expect("handler linked");
    let inner = f
        .calls
        .iter()
        .find(|c| c.callee == "client.chat.completions.create")
        .unwrap();
    assert_eq!(inner.in_function, Some(handler));
}

#[test]
fn reachability_crosses_files_through_imports() {
    let project = ProjectFacts::new(
        vec![
        facts(
            "backend/app/routes/chat.py",
            "from app.services import llm\n\n@router.post('/chat')\ndef chat():\n    return llm.answer('q')\n\ndef health():\n    return 'ok'\n",
        ),
        facts(
            "backend/app/services/llm.py",
            "from openai import OpenAI as Client\n\ndef answer(q):\n    return _ask(q)\n\ndef _ask(q):\n    return Client().chat.completions.create(model='x')\n",
        ),
        facts(
            "web/app/api/chat/route.ts",
            "import { ask } from '@/lib/ai';\nexport async function POST() { return ask(); }\n",
        ),
        facts("web/src/lib/ai.ts", "import OpenAI from 'openai';\nexport function ask() { return new OpenAI().chat.completions.create({}); }\n"),
        ],
        &[],
    );
    let is_ai = |fi: usize, _: usize, c: &Call| {
        c.callee.ends_with("chat.completions.create") && !project.file(fi).path.is_empty()
    };
    let reached = project.functions_reaching(is_ai, 5);
    let names: std::collections::BTreeSet<String> = reached
        .keys()
        .map(|r| {
            format!(
                "{}:{}",
                project.file(r.file).path,
                project.function(*r).name
            )
        })
        .collect();
    assert!(
        names.contains("backend/app/routes/chat.py:chat"),
        "{names:?}"
    );
    assert!(
        names.contains("web/app/api/chat/route.ts:POST"),
        "{names:?}"
    );
    assert!(!names.iter().any(|n| n.ends_with(":health")));
    let chat = reached
        .keys()
        .find(|r| project.function(**r).name == "chat")
        .unwrap();
    let chain: Vec<&str> = reached[chat]
        .functions
        .iter()
        .map(|f| project.function(*f).name.as_str())
        .collect();
    assert_eq!(chain, vec!["chat", "answer", "_ask"]);
}

#[test]
fn deep_nesting_does_not_overflow_the_stack() {
    let code = format!("x = {}1{}\n", "(".repeat(5000), ")".repeat(5000));
    let f = facts("deep.py", &code);
    assert_eq!(f.assignments.len(), 1);
}

#[test]
fn python_modules_resolve_by_dotted_suffix_at_a_boundary() {
    let importer =
        |module: &str| facts("backend/app/routes/chat.py", &format!("import {module}\n"));
    let resolve = |module: &str| {
        let project = ProjectFacts::new(
            vec![importer(module)],
            &[
                "backend/app/services/llm.py".to_string(),
                "other/services/llm.py".to_string(),
                "backend/app/clients/__init__.py".to_string(),
                "backend/app/devices/llm.py".to_string(),
            ],
        );
        let from = project.index_of("backend/app/routes/chat.py").unwrap();
        let import = &project.file(from).imports[0];
        project.resolve_import_path(from, import)
    };
    // A suffix at a `.` boundary; the file closest to the importer wins.
    assert_eq!(
        resolve("services.llm").as_deref(),
        Some("backend/app/services/llm.py")
    );
    assert_eq!(
        resolve("app.services.llm").as_deref(),
        Some("backend/app/services/llm.py")
    );
    // A package is its __init__.py.
    assert_eq!(
        resolve("app.clients").as_deref(),
        Some("backend/app/clients/__init__.py")
    );
    // `vices.llm` is not a suffix at a boundary of `services.llm`.
    assert_eq!(resolve("vices.llm"), None);
    assert_eq!(resolve("missing.llm"), None);
}

#[test]
fn ts_classes_decorators_fields_and_parameter_properties() {
    let f = facts(
        "src/chat.controller.ts",
        r#"import { Controller, Post, UseGuards } from '@nestjs/common';

@UseGuards(JwtAuthGuard)
@Controller('chat')
export class ChatController extends Base implements OnInit {
  private readonly openai = new OpenAI();
  static count = 0;
  constructor(private readonly chat: ChatService, plain: Other) {}

  @Post('ask')
  @Public
  ask(@Body() body: AskDto) {
    return this.chat.ask(body.prompt);
  }
}

@Module({ providers: [{ provide: APP_GUARD, useClass: X }], imports: [T.forRoot([{ ttl: 1 }])] })
class AppModule {}
"#,
    );
    let class = &f.classes[0];
    assert_eq!(class.name, "ChatController");
    assert_eq!(class.bases, vec!["Base", "OnInit"]);
    let decorators: Vec<&str> = class.decorators.iter().map(|d| d.callee.as_str()).collect();
    assert_eq!(decorators, vec!["UseGuards", "Controller"]);
    assert_eq!(class.decorators[1].args[0].text, "'chat'");
    assert_eq!(class.attributes.len(), 2);
    let ask = f
        .functions
        .iter()
        .find(|x| x.name == "ChatController.ask")
        .unwrap();
    let decorators: Vec<(&str, u32)> = ask
        .decorators
        .iter()
        .map(|d| (d.callee.as_str(), d.line))
        .collect();
    assert_eq!(decorators, vec![("Post", 10), ("Public", 11)]);
    let constructor = f
        .functions
        .iter()
        .position(|x| x.name == "ChatController.constructor")
        .unwrap();
    // A field and a parameter property are assignments to `this`; a plain
    // parameter and a static field are not.
    let this: Vec<(&str, Option<&str>, Option<usize>)> = f
        .assignments
        .iter()
        .filter(|a| a.target.starts_with("this."))
        .map(|a| (a.target.as_str(), a.value_callee.as_deref(), a.in_function))
        .collect();
    assert_eq!(
        this,
        vec![
            ("this.openai", Some("OpenAI"), None),
            ("this.chat", None, Some(constructor)),
        ]
    );
    let entries: Vec<(&str, &str, &str)> = f
        .dict_entries
        .iter()
        .map(|d| (d.path.as_str(), d.key.as_str(), d.value.as_str()))
        .collect();
    assert!(
        entries.contains(&("Module.providers[0]", "useClass", "X")),
        "{entries:?}"
    );
    assert!(
        entries.contains(&("T.forRoot[0]", "ttl", "1")),
        "{entries:?}"
    );
    assert_eq!(f.classes[1].decorators[0].callee, "Module");
}

#[test]
fn js_property_calls_and_generator_function_arguments() {
    let f = facts(
        "src/router.ts",
        r#"export const chat = router({
  send: proc.input(schema).mutation(async ({ input }) => run(input)),
  "stream": proc.subscription(async function* () { yield 1; }),
  other: { deep: proc.query(() => 1) },
});
"#,
    );
    let at = |p: (u32, u32)| {
        f.calls
            .iter()
            .find(|c| (c.line, c.column) == p)
            .map(|c| c.callee.clone())
    };
    let found: Vec<(String, Option<String>, Option<String>)> = f
        .property_calls
        .iter()
        .map(|p| (p.key.clone(), at(p.holder), at(p.value)))
        .collect();
    let some = |s: &str| Some(s.to_string());
    // The outermost call of a chain comes first at its position; a call in
    // a nested plain object is a property of the router call by its path.
    assert_eq!(
        found,
        vec![
            ("send".into(), some("router"), some("proc.input().mutation")),
            ("stream".into(), some("router"), some("proc.subscription")),
            ("other.deep".into(), some("router"), some("proc.query")),
        ]
    );
    let stream = f
        .calls
        .iter()
        .find(|c| c.callee == "proc.subscription")
        .unwrap();
    assert!(stream.args[0].function.is_some());
}

/// The shapes the Python facts keep from the source (Ruff's syntax tree
/// drops parentheses, splits chained assignments and keeps keyword and
/// positional arguments apart; the facts do not).
#[test]
fn python_facts_keep_the_shapes_of_the_source() {
    let f = facts(
        "app/shapes.py",
        r#"x = (a + b)
y = (f())
z = f()
a = b = g()

@app.get("/x")
def handler(p, /, q, *, k=(v), **kw):
    h((p), q, *args, k=(v), **kw)
    total = sum(x for x in xs if x)
    # still the handler's

class Service(Base, **opts):
    pass

def splat(*args):
    with (open(p) as fh, lock):
        pass
"#,
    );
    let assignments: Vec<(&str, &str, Option<&str>, u32)> = f
        .assignments
        .iter()
        .map(|a| {
            (
                a.target.as_str(),
                a.text.as_str(),
                a.value_callee.as_deref(),
                a.line,
            )
        })
        .collect();
    assert_eq!(
        assignments,
        [
            ("x", "(a + b)", None, 1),
            ("y", "(f())", None, 2),
            ("z", "f()", Some("f"), 3),
            ("a", "b = g()", None, 4),
            ("b", "g()", Some("g"), 4),
            ("total", "sum(x for x in xs if x)", Some("sum"), 9),
            ("fh", "open(p)", Some("open"), 16),
        ]
    );
    let handler = &f.functions[0];
    assert_eq!(handler.name, "handler");
    // From the decorator to the comment indented under the body.
    assert_eq!((handler.line, handler.end_line), (6, 10));
    assert_eq!(handler.params, ["p", "/", "q", "*", "k=(v)", "**kw"]);
    assert_eq!(handler.decorators[0].callee, "app.get");
    assert_eq!(f.functions[1].params, ["*args"]);
    let call = |callee: &str| f.calls.iter().find(|c| c.callee == callee).unwrap();
    let args: Vec<(Option<&str>, &str)> = call("h")
        .args
        .iter()
        .map(|a| (a.keyword.as_deref(), a.text.as_str()))
        .collect();
    assert_eq!(
        args,
        [
            (None, "(p)"),
            (None, "q"),
            (None, "*args"),
            (Some("k"), "(v)"),
            (None, "**kw"),
        ]
    );
    // A generator passed alone: its element and clauses, as arguments.
    let parts: Vec<&str> = call("sum").args.iter().map(|a| a.text.as_str()).collect();
    assert_eq!(parts, ["x", "for x in xs", "if x"]);
    assert_eq!(f.classes[0].bases, ["Base", "**opts"]);
    assert_eq!(f.classes[0].line, 12);
}
