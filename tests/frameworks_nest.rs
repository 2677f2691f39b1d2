//! NestJS (issue 17 item 3; issue 15 item 2, constructor injection):
//! controllers and their full paths, guards and `@Public()`, the throttler
//! and its guard, CORS. The fixtures' findings are exact in their
//! `fixture.toml` (tests/fixtures.rs); here the inventory's evidence, and
//! small projects for the cases the fixtures do not hold.

mod common;

use common::*;

#[test]
fn unprotected_app_paths_injection_public_and_unbound_throttler() {
    let dir = materialize("nest-unprotected");
    let json = inventory_json(dir.path());
    assert_eq!(json["frameworks"], serde_json::json!(["NestJS"]));
    // Global prefix + controller prefix (a string or `{ path }`) + method
    // path; the health controller calls no AI and is not parsed.
    assert_eq!(
        endpoint_routes(&json),
        vec![
            route("POST", "/api/chat", true),
            route("POST", "/api/chat/demo", true),
            route("POST", "/api/chat/summarize", true),
            route("GET", "/api/chat/history", false),
            route("GET", "/api/playground/stream", true),
            route("POST", "/api/playground/save", true),
        ]
    );
    // Constructor injection: `this.chatService.ask()` is ChatService.ask,
    // not the controller's own `ask`.
    let chat = endpoint_at(&json, "/api/chat");
    let chain: Vec<&str> = chat["ai"]["chain"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["detail"].as_str().unwrap())
        .collect();
    assert_eq!(chain, vec!["ChatController.ask", "ChatService.ask"]);
    assert_eq!(chat["ai"]["path"], "src/chat/chat.service.ts");
    // An injected client (`constructor(private readonly openai: OpenAI)`).
    assert_eq!(
        endpoint_at(&json, "/api/playground/stream")["ai"]["path"],
        "src/playground/playground.controller.ts"
    );
    // ThrottlerModule without a ThrottlerGuard, and @Throttle without one:
    // no limit anywhere.
    for e in json["endpoints"].as_array().unwrap() {
        assert!(details(e, "rate_limits").is_empty(), "{e}");
    }
    assert_eq!(
        details(chat, "auth"),
        vec!["global guard JwtAuthGuard (APP_GUARD in src/app.module.ts:18)"]
    );
    // @Public() on the method, and on the controller: the global guard
    // reads that metadata, so these routes are open.
    assert!(details(endpoint_at(&json, "/api/chat/demo"), "auth").is_empty());
    assert!(details(endpoint_at(&json, "/api/playground/stream"), "auth").is_empty());
    // passport's AuthGuard('jwt') does not read it: still authenticated.
    assert_eq!(
        details(endpoint_at(&json, "/api/playground/save"), "auth"),
        vec!["@UseGuards(AuthGuard('jwt'))"]
    );
}

#[test]
fn protected_app_throttlers_overrides_and_guards() {
    let dir = materialize("nest-protected");
    let json = inventory_json(dir.path());
    assert_eq!(
        endpoint_routes(&json),
        vec![
            route("POST", "/api/v1/chat", true),
            route("POST", "/api/v1/chat/long", true),
            route("GET", "/api/v1/chat/history", false),
            route("POST", "/api/v1/completions", true),
        ]
    );
    let guard = "global guard ThrottlerGuard (APP_GUARD in src/app.module.ts:24)";
    assert_eq!(
        details(endpoint_at(&json, "/api/v1/chat"), "rate_limits"),
        vec![
            format!(
                "{guard}, ThrottlerModule.forRoot throttler `minute` limit 10 per ttl minutes(1)"
            ),
            format!("{guard}, ThrottlerModule.forRoot throttler `day` limit 200 per ttl days(1)"),
        ]
    );
    // @Throttle overrides the named throttler; the daily one stays.
    let long = endpoint_at(&json, "/api/v1/chat/long");
    assert_eq!(
        details(long, "rate_limits"),
        vec![
            format!("@Throttle on ChatController.long, throttler `minute`, under {guard} limit 3 per ttl 60_000 ms"),
            format!("{guard}, ThrottlerModule.forRoot throttler `day` limit 200 per ttl days(1)"),
        ]
    );
    assert_eq!(long["rate_limits"][0]["line"], 15);
    // @SkipThrottle() removes every throttler.
    assert!(details(endpoint_at(&json, "/api/v1/chat/history"), "rate_limits").is_empty());
    assert_eq!(
        details(long, "auth"),
        vec!["global guard JwtAuthGuard (app.useGlobalGuards in src/main.ts:9)"]
    );
    // The controller is @Public() (the global guard lets it pass); its
    // route's own guard authenticates.
    assert_eq!(
        details(endpoint_at(&json, "/api/v1/completions"), "auth"),
        vec!["@UseGuards(AuthGuard('jwt'))"]
    );
}

const SERVICE: &str = r#"import { Injectable } from '@nestjs/common';
import OpenAI from 'openai';

@Injectable()
export class AiService {
  constructor(private readonly openai: OpenAI) {}

  ask(prompt: string) {
    return this.openai.chat.completions.create({
      model: 'gpt-4o-mini',
      max_tokens: 300,
      messages: [{ role: 'user', content: prompt }],
    });
  }
}
"#;

#[test]
fn memory_throttler_without_daily_cap_and_skipped_route() {
    let dir = write_project(&[
        (
            "src/main.ts",
            "import { NestFactory } from '@nestjs/core';\nimport { AppModule } from './app.module';\n\nasync function bootstrap() {\n  const app = await NestFactory.create(AppModule);\n  app.enableCors();\n  await app.listen(3000);\n}\nbootstrap();\n",
        ),
        (
            "src/app.module.ts",
            "import { Module } from '@nestjs/common';\nimport { APP_GUARD } from '@nestjs/core';\nimport { ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';\nimport { AiController } from './ai.controller';\n\n@Module({\n  imports: [ThrottlerModule.forRoot([{ ttl: 60000, limit: 10 }])],\n  controllers: [AiController],\n  providers: [{ provide: APP_GUARD, useClass: ThrottlerGuard }],\n})\nexport class AppModule {}\n",
        ),
        ("src/ai.service.ts", SERVICE),
        (
            "src/ai.controller.ts",
            "import { Body, Controller, Post, UseGuards } from '@nestjs/common';\nimport { SkipThrottle } from '@nestjs/throttler';\nimport { AuthGuard } from '@nestjs/passport';\nimport { AiService } from './ai.service';\n\n@UseGuards(AuthGuard('jwt'))\n@Controller('ai')\nexport class AiController {\n  constructor(private readonly ai: AiService) {}\n\n  @Post('ask')\n  ask(@Body() body: { prompt: string }) {\n    return this.ai.ask(body.prompt);\n  }\n\n  @SkipThrottle()\n  @Post('batch')\n  batch(@Body() body: { prompt: string }) {\n    return this.ai.ask(body.prompt);\n  }\n}\n",
        ),
    ]);
    let json = inventory_json(dir.path());
    assert_eq!(
        details(endpoint_at(&json, "/ai/ask"), "auth"),
        vec!["@UseGuards(AuthGuard('jwt')) on AiController"]
    );
    let (_, audit, _) = audit_json(
        dir.path(),
        &["--select", "rate-limit,rate-limit-store,auth,cors"],
    );
    assert_eq!(
        finding_keys(&audit),
        vec![
            // enableCors() with no options: every origin.
            "cors cors-default-any-origin src/main.ts:6",
            // Per minute only.
            "rate-limit rate-limit-no-daily-cap src/ai.controller.ts:12",
            // @SkipThrottle() takes the only limit away.
            "rate-limit ai-endpoint-not-rate-limited src/ai.controller.ts:18",
            // The default storage is process memory.
            "rate-limit-store rate-limit-memory-store src/app.module.ts:7",
        ]
        .into_iter()
        .map(String::from)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect::<Vec<_>>()
    );
}

#[test]
fn v4_throttler_controller_guard_prefix_exclude_and_reflected_origin() {
    let dir = write_project(&[
        (
            "src/main.ts",
            "import { NestFactory } from '@nestjs/core';\nimport { AppModule } from './app.module';\n\nasync function bootstrap() {\n  const app = await NestFactory.create(AppModule);\n  app.setGlobalPrefix('api', { exclude: ['public-ai'] });\n  app.enableCors({ origin: true, credentials: true });\n  await app.listen(3000);\n}\nbootstrap();\n",
        ),
        (
            "src/app.module.ts",
            "import { Module } from '@nestjs/common';\nimport { ThrottlerModule } from '@nestjs/throttler';\nimport { ThrottlerStorageRedisService } from 'nestjs-throttler-storage-redis';\n\n@Module({\n  imports: [ThrottlerModule.forRoot({ ttl: 60, limit: 5, storage: new ThrottlerStorageRedisService() })],\n})\nexport class AppModule {}\n",
        ),
        ("src/ai.service.ts", SERVICE),
        (
            "src/ai.controller.ts",
            "import { Body, Controller, Post, UseGuards } from '@nestjs/common';\nimport { ThrottlerGuard } from '@nestjs/throttler';\nimport { AiService } from './ai.service';\n\n@UseGuards(ThrottlerGuard)\n@Controller('public-ai')\nexport class AiController {\n  constructor(private readonly ai: AiService) {}\n\n  @Post(['ask', 'question'])\n  ask(@Body() body: { prompt: string }) {\n    return this.ai.ask(body.prompt);\n  }\n}\n",
        ),
    ]);
    let json = inventory_json(dir.path());
    // Excluded from the global prefix; one endpoint per path of the list.
    assert_eq!(
        endpoint_routes(&json),
        vec![
            route("POST", "/public-ai/ask", true),
            route("POST", "/public-ai/question", true),
        ]
    );
    // v4: ttl in seconds; a ThrottlerGuard is not auth.
    let ask = endpoint_at(&json, "/public-ai/ask");
    assert_eq!(
        details(ask, "rate_limits"),
        vec!["@UseGuards(ThrottlerGuard), ThrottlerModule.forRoot throttler `default` limit 5 per ttl 60 s"]
    );
    assert!(details(ask, "auth").is_empty());
    let (_, audit, _) = audit_json(
        dir.path(),
        &["--select", "rate-limit,rate-limit-store,auth,cors"],
    );
    assert_eq!(
        finding_keys(&audit),
        // One finding per place: both paths share the handler.
        vec![
            "auth ai-endpoint-no-auth src/ai.controller.ts:11",
            "cors cors-reflects-any-origin src/main.ts:7",
            "rate-limit rate-limit-no-daily-cap src/ai.controller.ts:11",
        ]
    );
    // A Redis storage is a shared store.
    assert_eq!(status_of(&audit, "rate-limit-store"), "pass");
}

#[test]
fn origins_from_the_environment_and_cors_false_pass() {
    let dir = write_project(&[
        (
            "src/main.ts",
            "import { NestFactory } from '@nestjs/core';\nimport { AppModule } from './app.module';\n\nasync function bootstrap() {\n  const app = await NestFactory.create(AppModule, { cors: false });\n  app.enableCors({ origin: process.env.CORS_ORIGINS.split(',') });\n  await app.listen(3000);\n}\nbootstrap();\n",
        ),
        ("src/app.module.ts", "import { Module } from '@nestjs/common';\n\n@Module({})\nexport class AppModule {}\n"),
    ]);
    let (_, audit, _) = audit_json(dir.path(), &["--select", "cors"]);
    assert_eq!(finding_keys(&audit), Vec::<String>::new());
    assert_eq!(status_of(&audit, "cors"), "pass");
    // `cors: { origin: '*' }` in the factory's options is a wildcard.
    let dir = write_project(&[(
        "src/main.ts",
        "import { NestFactory } from '@nestjs/core';\nimport { AppModule } from './app.module';\n\nasync function bootstrap() {\n  const app = await NestFactory.create(AppModule, { cors: { origin: '*' } });\n  await app.listen(3000);\n}\nbootstrap();\n",
    )]);
    let (_, audit, _) = audit_json(dir.path(), &["--select", "cors"]);
    assert_eq!(
        finding_keys(&audit),
        vec!["cors cors-wildcard-origin src/main.ts:5"]
    );
}

#[test]
fn project_guards_and_a_project_public_decorator() {
    let dir = write_project(&[
        (
            "src/main.ts",
            "import { NestFactory } from '@nestjs/core';\nimport { AppModule } from './app.module';\n\nasync function bootstrap() {\n  const app = await NestFactory.create(AppModule);\n  await app.listen(3000);\n}\nbootstrap();\n",
        ),
        (
            "src/app.module.ts",
            "import { Module } from '@nestjs/common';\nimport { APP_GUARD } from '@nestjs/core';\nimport { SessionGuard } from './guards';\n\n@Module({\n  providers: [{ provide: APP_GUARD, useExisting: SessionGuard }],\n})\nexport class AppModule {}\n",
        ),
        (
            "src/guards.ts",
            "import { CanActivate, ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';\nimport { Reflector } from '@nestjs/core';\nimport { OPEN_KEY } from './open.decorator';\n\n@Injectable()\nexport class SessionGuard implements CanActivate {\n  constructor(private reflector: Reflector) {}\n  canActivate(ctx: ExecutionContext) {\n    if (this.reflector.get<boolean>(OPEN_KEY, ctx.getHandler())) return true;\n    return Boolean(ctx.switchToHttp().getRequest().session?.user);\n  }\n}\n\n@Injectable()\nexport class HeaderGate implements CanActivate {\n  canActivate(ctx: ExecutionContext) {\n    if (ctx.switchToHttp().getRequest().headers['x-key'] !== process.env.KEY) {\n      throw new UnauthorizedException();\n    }\n    return true;\n  }\n}\n\n@Injectable()\nexport class RolesGuard implements CanActivate {\n  canActivate(ctx: ExecutionContext) {\n    return ctx.switchToHttp().getRequest().user?.roles?.includes('admin');\n  }\n}\n",
        ),
        (
            "src/open.decorator.ts",
            "import { SetMetadata } from '@nestjs/common';\n\nexport const OPEN_KEY = 'allowAnonymous';\nexport const OpenRoute = () => SetMetadata(OPEN_KEY, true);\n",
        ),
        ("src/ai.service.ts", SERVICE),
        (
            "src/ai.controller.ts",
            "import { Body, Controller, Post, UseGuards } from '@nestjs/common';\nimport { AiService } from './ai.service';\nimport { HeaderGate, RolesGuard } from './guards';\nimport { OpenRoute } from './open.decorator';\n\n@Controller('ai')\nexport class AiController {\n  constructor(private readonly ai: AiService) {}\n\n  @Post('ask')\n  ask(@Body() body: { prompt: string }) {\n    return this.ai.ask(body.prompt);\n  }\n\n  @OpenRoute()\n  @Post('open')\n  open(@Body() body: { prompt: string }) {\n    return this.ai.ask(body.prompt);\n  }\n\n  @OpenRoute()\n  @UseGuards(HeaderGate)\n  @Post('keyed')\n  keyed(@Body() body: { prompt: string }) {\n    return this.ai.ask(body.prompt);\n  }\n\n  @OpenRoute()\n  @UseGuards(RolesGuard)\n  @Post('roles')\n  roles(@Body() body: { prompt: string }) {\n    return this.ai.ask(body.prompt);\n  }\n}\n",
        ),
    ]);
    let json = inventory_json(dir.path());
    // A project guard named for sessions, bound with useExisting.
    assert_eq!(
        details(endpoint_at(&json, "/ai/ask"), "auth"),
        vec!["global guard SessionGuard (APP_GUARD in src/app.module.ts:6)"]
    );
    // A project decorator made with SetMetadata under a key that says
    // anonymous, read by the global guard through the Reflector: open.
    assert!(details(endpoint_at(&json, "/ai/open"), "auth").is_empty());
    // A guard that throws UnauthorizedException authenticates; one that
    // checks roles does not.
    assert_eq!(
        details(endpoint_at(&json, "/ai/keyed"), "auth"),
        vec!["@UseGuards(HeaderGate)"]
    );
    assert!(details(endpoint_at(&json, "/ai/roles"), "auth").is_empty());
}

#[test]
fn uri_versioning_and_guards_of_a_base_controller() {
    let dir = write_project(&[
        (
            "src/main.ts",
            "import { NestFactory } from '@nestjs/core';\nimport { VersioningType } from '@nestjs/common';\nimport { AppModule } from './app.module';\n\nasync function bootstrap() {\n  const app = await NestFactory.create(AppModule);\n  app.setGlobalPrefix('api');\n  app.enableVersioning({ type: VersioningType.URI, defaultVersion: '1' });\n  await app.listen(3000);\n}\nbootstrap();\n",
        ),
        ("src/ai.service.ts", SERVICE),
        (
            "src/base.controller.ts",
            "import { UseGuards } from '@nestjs/common';\nimport { AuthGuard } from '@nestjs/passport';\n\n@UseGuards(AuthGuard('jwt'))\nexport abstract class SignedInController {}\n",
        ),
        (
            "src/chat.controller.ts",
            "import { Body, Controller, Post, Version, VERSION_NEUTRAL } from '@nestjs/common';\nimport { AiService } from './ai.service';\nimport { SignedInController } from './base.controller';\n\n@Controller({ path: 'chat', version: '2' })\nexport class ChatController extends SignedInController {\n  constructor(private readonly ai: AiService) {\n    super();\n  }\n\n  @Post()\n  chat(@Body() body: { prompt: string }) {\n    return this.ai.ask(body.prompt);\n  }\n\n  @Version(['3', VERSION_NEUTRAL])\n  @Post('fast')\n  fast(@Body() body: { prompt: string }) {\n    return this.ai.ask(body.prompt);\n  }\n}\n\n@Controller('ask')\nexport class AskController {\n  constructor(private readonly ai: AiService) {}\n\n  @Post()\n  ask(@Body() body: { prompt: string }) {\n    return this.ai.ask(body.prompt);\n  }\n}\n",
        ),
    ]);
    let json = inventory_json(dir.path());
    assert_eq!(
        endpoint_routes(&json),
        vec![
            route("POST", "/api/v2/chat", true),
            route("POST", "/api/v3/chat/fast", true),
            route("POST", "/api/chat/fast", true),
            route("POST", "/api/v1/ask", true),
        ]
    );
    // The guard decorates the base class: the subclass's routes inherit it.
    assert_eq!(
        details(endpoint_at(&json, "/api/v2/chat"), "auth"),
        vec!["@UseGuards(AuthGuard('jwt'))"]
    );
    assert!(details(endpoint_at(&json, "/api/v1/ask"), "auth").is_empty());
}

#[test]
fn router_module_paths_prefix_the_controllers_of_their_module() {
    let dir = write_project(&[
        (
            "src/main.ts",
            "import { NestFactory } from '@nestjs/core';\nimport { AppModule } from './app.module';\n\nasync function bootstrap() {\n  const app = await NestFactory.create(AppModule);\n  await app.listen(3000);\n}\nbootstrap();\n",
        ),
        (
            "src/app.module.ts",
            "import { Module } from '@nestjs/common';\nimport { RouterModule } from '@nestjs/core';\nimport { AiModule } from './ai/ai.module';\nimport { OtherModule } from './other.module';\n\n@Module({\n  imports: [AiModule, OtherModule, RouterModule.register([{ path: 'assistant', module: AiModule }])],\n})\nexport class AppModule {}\n",
        ),
        (
            "src/ai/ai.module.ts",
            "import { Module } from '@nestjs/common';\nimport { AiController } from './ai.controller';\n\n@Module({ controllers: [AiController] })\nexport class AiModule {}\n",
        ),
        (
            "src/other.module.ts",
            "import { Module } from '@nestjs/common';\nimport { OtherController } from './other.controller';\n\n@Module({ controllers: [OtherController] })\nexport class OtherModule {}\n",
        ),
        ("src/ai.service.ts", SERVICE),
        (
            "src/ai/ai.controller.ts",
            "import { Body, Controller, Post } from '@nestjs/common';\nimport { AiService } from '../ai.service';\n\n@Controller('chat')\nexport class AiController {\n  constructor(private readonly ai: AiService) {}\n\n  @Post()\n  chat(@Body() body: { prompt: string }) {\n    return this.ai.ask(body.prompt);\n  }\n}\n",
        ),
        (
            "src/other.controller.ts",
            "import { Body, Controller, Post } from '@nestjs/common';\nimport { AiService } from './ai.service';\n\n@Controller('other')\nexport class OtherController {\n  constructor(private readonly ai: AiService) {}\n\n  @Post()\n  other(@Body() body: { prompt: string }) {\n    return this.ai.ask(body.prompt);\n  }\n}\n",
        ),
    ]);
    let json = inventory_json(dir.path());
    assert_eq!(
        endpoint_routes(&json),
        vec![
            route("POST", "/assistant/chat", true),
            route("POST", "/other", true),
        ]
    );
}
