//! Django (issue 17 item 1), the gaps closed after the first pass: URL
//! calls written inline in `include([…])` take its prefix, and a view
//! that turns away anonymous users with an early exit is authenticated.

mod common;

use common::*;

const URLS: &str = r#"from django.urls import path, include
from chat import views

urlpatterns = [
    path("api/", include([
        path("chat/", views.chat),
        path("ask/", views.ask),
        path("v1/", include([path("late/", views.late)])),
    ])),
    path("v2/", include(([path("talk/", views.talk)], "chat"), namespace="v2")),
    path("cached/", views.cached),
]
"#;

const VIEWS: &str = r#"from django.http import JsonResponse
from openai import OpenAI

client = OpenAI()


def ask_model(prompt):
    r = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": prompt}], max_tokens=100)
    return r.choices[0].message.content


def chat(request):
    if not request.user.is_authenticated:
        return JsonResponse({"error": "sign in"}, status=401)
    return JsonResponse({"answer": ask_model(request.POST["q"])})


def ask(request):
    return JsonResponse({"answer": ask_model(request.POST["q"])})


def talk(request):
    if request.user.is_anonymous:
        return JsonResponse({"error": "sign in"}, status=403)
    return JsonResponse({"answer": ask_model(request.POST["q"])})


def late(request):
    answer = ask_model(request.POST["q"])
    if not request.user.is_authenticated:
        return JsonResponse({"error": "sign in"}, status=401)
    return JsonResponse({"answer": answer})


def cached(request):
    # Signed-in users get the cache; everyone else reaches the model.
    if request.user.is_authenticated:
        return JsonResponse({"answer": "cached"})
    return JsonResponse({"answer": ask_model(request.POST["q"])})
"#;

fn auth_of(json: &serde_json::Value, path: &str) -> Vec<(String, String)> {
    evidence(endpoint_at(json, path), "auth")
}

#[test]
fn inline_includes_prefix_their_urls_and_anonymous_guards_are_auth() {
    let dir = write_project(&[
        ("proj/urls.py", URLS),
        ("chat/__init__.py", ""),
        ("chat/views.py", VIEWS),
    ]);
    let json = inventory_json(dir.path());
    let routes: Vec<String> = endpoint_routes(&json)
        .into_iter()
        .map(|(_, path, ai)| format!("{path} {ai}"))
        .collect();
    assert_eq!(
        routes,
        [
            "/api/chat true",
            "/api/ask true",
            "/v2/talk true",
            "/api/v1/late true",
            "/cached true"
        ]
    );
    let enforced = |how: &str| vec![("enforced".to_string(), how.to_string())];
    assert_eq!(
        auth_of(&json, "/api/chat"),
        enforced("early exit when `not request.user.is_authenticated`")
    );
    assert_eq!(
        auth_of(&json, "/v2/talk"),
        enforced("early exit when `request.user.is_anonymous`")
    );
    assert_eq!(auth_of(&json, "/api/ask"), vec![]);
    // Checked after the model has answered: paid for either way.
    assert_eq!(
        auth_of(&json, "/api/v1/late"),
        vec![(
            "after-ai-call".to_string(),
            "early exit when `not request.user.is_authenticated`".to_string()
        )]
    );
    // A guard that lets signed-in users out early lets everyone else in.
    assert_eq!(auth_of(&json, "/cached"), vec![]);

    // The audit reports the unauthenticated ones only.
    let run = aiguard(
        &["audit", ".", "--select", "auth", "--format", "json"],
        dir.path(),
    );
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON report");
    let mut flagged: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["message"].as_str().unwrap().to_string())
        .filter_map(|m| {
            [
                "/api/ask",
                "/api/v1/late",
                "/cached",
                "/api/chat",
                "/v2/talk",
            ]
            .into_iter()
            .find(|p| m.contains(&format!("{p} ")) || m.ends_with(p))
            .map(str::to_string)
        })
        .collect();
    flagged.sort();
    assert_eq!(flagged, ["/api/ask", "/api/v1/late", "/cached"], "{report}");
}

const CLASS_VIEW: &str = r#"from django.http import JsonResponse
from django.views import View
from openai import OpenAI

client = OpenAI()


class AskView(View):
    def get(self, request):
        return JsonResponse({"ok": True})

    def post(self, request):
        r = client.chat.completions.create(model="gpt-4o", messages=[], max_tokens=100)
        return JsonResponse({"a": r.choices[0].message.content})
"#;

#[test]
fn fix_puts_django_ratelimit_on_function_and_class_views() {
    let urls = format!(
        "{URLS}\nfrom chat.cbv import AskView\nurlpatterns += [path(\"cbv/\", AskView.as_view())]\n"
    );
    let dir = write_project(&[
        ("proj/urls.py", &urls),
        ("chat/__init__.py", ""),
        ("chat/views.py", VIEWS),
        ("chat/cbv.py", CLASS_VIEW),
        ("requirements.txt", "django\nopenai\n"),
    ]);
    git_init(dir.path());
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-qm", "project"]);
    let (_, before, _) = audit_json(dir.path(), &["--select", "rate-limit"]);
    assert_eq!(status_of(&before, "rate-limit"), "fail", "{before}");
    let run = aiguard(&["fix", ".", "--select", "rate-limit"], dir.path());
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("RATELIMIT_VIEW"), "{}", run.stdout);
    let views = std::fs::read_to_string(dir.path().join("chat/views.py")).unwrap();
    assert!(
        views.contains("from django_ratelimit.decorators import ratelimit\n"),
        "{views}"
    );
    assert!(
        views.contains(
            "@ratelimit(key=\"user_or_ip\", rate=\"5/m\", block=True)\n@ratelimit(key=\"user_or_ip\", rate=\"50/d\", block=True)\ndef ask(request):"
        ),
        "{views}"
    );
    // Every AI view, once each.
    assert_eq!(views.matches("rate=\"50/d\"").count(), 5, "{views}");
    let cbv = std::fs::read_to_string(dir.path().join("chat/cbv.py")).unwrap();
    assert!(
        cbv.contains("    @method_decorator(ratelimit(key=\"user_or_ip\", rate=\"50/d\", block=True))\n    def post(self, request):"),
        "{cbv}"
    );
    assert!(cbv.contains("    def get(self, request):\n"), "{cbv}");
    assert!(
        cbv.contains("from django.utils.decorators import method_decorator\n"),
        "{cbv}"
    );
    let requirements = std::fs::read_to_string(dir.path().join("requirements.txt")).unwrap();
    assert!(
        requirements.contains("django-ratelimit>=4.1"),
        "{requirements}"
    );
    let (_, after, _) = audit_json(dir.path(), &["--select", "rate-limit"]);
    assert_eq!(status_of(&after, "rate-limit"), "pass", "{after}");
    // A second run changes nothing.
    let again = aiguard(
        &[
            "fix",
            "--diff",
            ".",
            "--allow-dirty",
            "--select",
            "rate-limit",
        ],
        dir.path(),
    );
    assert_eq!(
        (again.code, again.stdout.as_str()),
        (0, ""),
        "{}",
        again.stderr
    );
}
