//! The approval page in a real browser: headless Chromium, driven through chromedriver, loads the
//! link of a deployment waiting for approval, as an approver (or a mail scanner) would.

use std::collections::BTreeMap;
use std::path::PathBuf;

use infra_agent_core::approval::link::ApprovalLink;
use infra_agent_core::clock::now;
use infra_agent_core::contract::approval::TaskToken;
use infra_agent_core::contract::record::DeploymentStatus;
use infra_agent_core::naming::Env;
use infra_agent_core::records::{ApprovalRecord, ApprovalStatus};
use infra_agent_tests::browser::{Chromedriver, Session, SessionOptions};
use infra_agent_tests::{inbox, unique_stack, Backend, Started};
use serde_json::Value;

/// Rendered a little over 16 px everywhere; anything under this is hard to read on a phone.
const MIN_READABLE_FONT_PX: f64 = 14.0;
const PHONE: (u32, u32) = (390, 844);
const INJECTED: &str = "<script>window.injected=1</script>";

async fn chromedriver() -> Chromedriver {
    Chromedriver::start()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

/// The deployment still waits for its approval, which nobody decided.
async fn still_waiting(backend: &Backend, started: &Started, approval_id: &str) {
    let approval = backend.approval(approval_id).await;
    assert_eq!(approval.status, ApprovalStatus::Pending, "{approval:?}");
    assert!(approval.approver.is_none() && approval.approved_by.is_empty());
    assert_eq!(
        backend.record(started).await.map(|r| r.status),
        Some(DeploymentStatus::AwaitingApproval)
    );
    assert_eq!(backend.execution(started).await.status.as_str(), "RUNNING");
    assert!(
        !backend
            .audit_trail(started)
            .await
            .iter()
            .any(|a| a.action == "approval.decide"),
        "no decision audited"
    );
}

/// Where test artifacts go: `$CARGO_TARGET_DIR/artifacts`, else the workspace's `target`.
fn artifact(name: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target")));
    let dir = target.join("artifacts");
    std::fs::create_dir_all(&dir).expect("create the artifacts directory");
    dir.join(name)
}

/// A screenshot of the whole page at `width` CSS pixels.
async fn full_page_screenshot(session: &Session<'_>, width: u32, name: &str) -> PathBuf {
    session.set_window_size(width, 800).await.unwrap();
    let height = session
        .execute("return document.documentElement.scrollHeight;", vec![])
        .await
        .unwrap()
        .as_u64()
        .expect("a page height");
    session
        .set_window_size(width, u32::try_from(height).unwrap_or(4000).min(4000))
        .await
        .unwrap();
    let png = session.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    let path = artifact(name);
    std::fs::write(&path, png).expect("write the screenshot");
    path
}

/// The title of the page a click led to, once it is `expected` (or after ten seconds).
async fn title_after_click(session: &Session<'_>, expected: &str) -> String {
    session
        .wait_for_title(expected, std::time::Duration::from_secs(10))
        .await
        .unwrap()
}

/// Whether JavaScript runs in `session`: a page's own script would retitle it.
async fn page_scripts_run(session: &Session<'_>) -> bool {
    session
        .goto("data:text/html,<title>off</title><script>document.title='on'</script>")
        .await
        .unwrap();
    session.title().await.unwrap() == "on"
}

/// Loading the link (again and again, as mail scanners and link unfurlers do) decides nothing;
/// clicking Approve decides once, with JavaScript off; a second click from a page loaded before
/// is refused and changes nothing.
#[tokio::test(flavor = "multi_thread")]
async fn loading_the_page_decides_nothing_and_one_click_approves_without_javascript() {
    let backend = Backend::connect().await;
    let (started, message) = backend.waiting_vpc(Env::Dev, "page").await;
    let driver = chromedriver().await;
    let browser = driver
        .session(SessionOptions {
            javascript: false,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(!page_scripts_run(&browser).await, "JavaScript is off");

    for _ in 0..4 {
        browser.goto(&message.link).await.unwrap();
    }
    browser.refresh().await.unwrap();
    for _ in 0..3 {
        assert_eq!(inbox::get(&message.link).await.unwrap().status, 200);
    }
    still_waiting(&backend, &started, &message.approval_id).await;

    let approval = backend.approval(&message.approval_id).await;
    assert_eq!(browser.title().await.unwrap(), "Approve deployment?");
    let text = browser.body_text().await.unwrap();
    assert!(text.contains(&approval.stack_name), "{text}");
    assert!(!approval.summary_lines.is_empty());
    for line in &approval.summary_lines {
        assert!(text.contains(line.as_str()), "{line:?} missing: {text}");
    }
    let cost = approval.cost_line.as_deref().expect("a cost line");
    assert_eq!(text_of(&browser, "#cost").await, cost);
    assert!(
        approval.cost_report.is_some(),
        "the approval names the whole cost report"
    );
    let cost_lines = text_of(&browser, "#cost-lines").await;
    assert!(
        cost_lines.contains("NatGatewayA AWS::EC2::NatGateway"),
        "per-resource cost lines: {cost_lines}"
    );
    assert_eq!(
        text_of(&browser, "#approvers").await,
        "Approvals: 0 of 1 needed (distinct approvers)."
    );
    let controls = text_of(&browser, "#controls").await;
    assert!(
        controls.contains("SC-7"),
        "NIST controls checked: {controls}"
    );
    assert!(text.contains("NIST 800-53 controls checked"), "{text}");

    // A second tab holds the form too, loaded while the approval was pending.
    let first_tab = browser.window_handle().await.unwrap();
    let second_tab = browser.open_tab().await.unwrap();
    browser.goto(&message.link).await.unwrap();
    browser.switch_to(&first_tab).await.unwrap();

    browser
        .type_into(
            &browser.find("input[name=approver]").await.unwrap(),
            "Ada Lovelace",
        )
        .await
        .unwrap();
    browser
        .type_into(
            &browser.find("input[name=comment]").await.unwrap(),
            "NAT looks right",
        )
        .await
        .unwrap();
    browser
        .click(&browser.find("button[value=approve]").await.unwrap())
        .await
        .unwrap();
    assert_eq!(title_after_click(&browser, "Approved").await, "Approved");
    let outcome = browser.body_text().await.unwrap();
    assert!(
        outcome.contains("Thank you, Ada Lovelace.") && outcome.contains("is approved"),
        "{outcome}"
    );
    let decided = backend.approval(&message.approval_id).await;
    assert_eq!(decided.status, ApprovalStatus::Approved);
    assert_eq!(decided.approver.as_deref(), Some("Ada Lovelace"));
    assert_eq!(decided.comment.as_deref(), Some("NAT looks right"));
    let ended = backend.wait_for_end(&started).await;
    assert_eq!(ended.status, "SUCCEEDED", "{ended:?}");
    assert_eq!(
        backend.stack_status(&started).await.as_deref(),
        Some("CREATE_COMPLETE")
    );

    // The page the other tab loaded before: its click is refused.
    browser.switch_to(&second_tab).await.unwrap();
    browser
        .type_into(&browser.find("input[name=approver]").await.unwrap(), "Eve")
        .await
        .unwrap();
    browser
        .click(&browser.find("button[value=approve]").await.unwrap())
        .await
        .unwrap();
    assert_eq!(
        title_after_click(&browser, "Not decided").await,
        "Not decided"
    );
    let refused = browser.body_text().await.unwrap();
    assert!(
        refused.contains("already decided") && refused.contains("Nothing was changed"),
        "{refused}"
    );
    assert_eq!(
        backend.approval(&message.approval_id).await,
        decided,
        "nothing changed"
    );
    let again = inbox::post_form(
        &message.link,
        &[("decision", "approve"), ("approver", "Eve")],
    )
    .await
    .unwrap();
    assert_eq!(again.status, 409, "{}", again.body);

    // Loading the link now says who decided.
    browser.goto(&message.link).await.unwrap();
    assert_eq!(browser.title().await.unwrap(), "Already decided");
    assert!(browser
        .body_text()
        .await
        .unwrap()
        .contains("by Ada Lovelace"));
    assert!(browser.find_all("form").await.unwrap().is_empty());
    browser.quit().await.unwrap();
}

/// In prd the page offers Reject only and names the command that approves under IAM with MFA;
/// an approver name carrying a script is recorded and shown as text, and runs nowhere.
#[tokio::test(flavor = "multi_thread")]
async fn prd_page_rejects_only_and_a_scripted_name_stays_text() {
    let backend = Backend::connect().await;
    let (started, message) = backend.waiting_vpc(Env::Prd, "pagep").await;
    let driver = chromedriver().await;
    let browser = driver.session(SessionOptions::default()).await.unwrap();
    assert!(page_scripts_run(&browser).await, "JavaScript is on");

    browser.goto(&message.link).await.unwrap();
    assert_eq!(browser.title().await.unwrap(), "Review production change");
    assert!(browser
        .find_all("button[value=approve]")
        .await
        .unwrap()
        .is_empty());
    assert_eq!(browser.find_all("button").await.unwrap().len(), 1);
    let reject = browser.find("button[value=reject]").await.unwrap();
    assert_eq!(browser.text(&reject).await.unwrap(), "Reject");
    let hint = text_of(&browser, "#approve-hint").await;
    assert!(
        hint.contains(&format!("infra-agent approve {}", message.approval_id))
            && hint.contains("MFA"),
        "{hint}"
    );
    assert_eq!(
        text_of(&browser, "#approvers").await,
        "Approvals: 0 of 2 needed (distinct approvers)."
    );
    still_waiting(&backend, &started, &message.approval_id).await;

    let name = format!("{INJECTED}Mallory");
    browser
        .type_into(&browser.find("input[name=approver]").await.unwrap(), &name)
        .await
        .unwrap();
    browser
        .type_into(
            &browser.find("input[name=comment]").await.unwrap(),
            INJECTED,
        )
        .await
        .unwrap();
    browser.click(&reject).await.unwrap();
    assert_eq!(title_after_click(&browser, "Rejected").await, "Rejected");
    let outcome = browser.body_text().await.unwrap();
    assert!(
        outcome.contains(&format!("Thank you, {name}.")),
        "the name shows as typed: {outcome}"
    );
    assert_no_script_ran(&browser).await;

    let decided = backend.approval(&message.approval_id).await;
    assert_eq!(decided.status, ApprovalStatus::Rejected);
    assert_eq!(decided.approver.as_deref(), Some(name.as_str()));
    assert_eq!(decided.comment.as_deref(), Some(INJECTED));
    let ended = backend.wait_for_end(&started).await;
    assert_eq!(
        ended.error.as_deref(),
        Some("ApprovalRejected"),
        "{ended:?}"
    );

    // The refusal names the approver again: as text.
    browser.goto(&message.link).await.unwrap();
    assert_eq!(browser.title().await.unwrap(), "Already decided");
    assert!(browser.body_text().await.unwrap().contains(&name));
    assert_no_script_ran(&browser).await;
    browser.quit().await.unwrap();
}

/// No script element made it into the page and nothing the injected script sets exists.
async fn assert_no_script_ran(browser: &Session<'_>) {
    let found = browser
        .execute(
            "return {scripts: document.scripts.length, injected: typeof window.injected};",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(found["scripts"], 0, "{found}");
    assert_eq!(found["injected"], "undefined", "{found}");
}

/// A copy of `started`'s approval and deployment record under a new id and stack (so the real
/// deployment is untouched), with `change` applied to the approval and the recorded parameters;
/// stored as the approval and change-set steps store them. The copy's signed link.
async fn stored_copy(
    backend: &Backend,
    started: &Started,
    approval: &ApprovalRecord,
    change: impl FnOnce(&mut ApprovalRecord, &mut BTreeMap<String, String>),
) -> String {
    let mut copy = approval.clone();
    let mut record = backend.record(started).await.expect("a deployment record");
    let stack = unique_stack("pagecopy");
    copy.approval_id = format!("copy{}", stack.as_str().replace('-', ""));
    copy.stack = stack.to_string();
    copy.deployment_id = format!("{}-copy", approval.deployment_id);
    // Never decided: the page only renders it.
    copy.task_token = Some(TaskToken::new("not-a-real-token".into()));
    change(&mut copy, &mut record.parameters);
    record.stack = stack;
    record.deployment_id = copy.deployment_id.clone();
    backend
        .pipeline
        .store
        .put_deployment(&record)
        .await
        .unwrap();
    backend.pipeline.store.put_approval(&copy).await.unwrap();
    ApprovalLink::new(
        backend.pipeline.settings.approval_key().unwrap(),
        &copy.approval_id,
        copy.expires_epoch,
    )
    .url(backend.pipeline.settings.approval_base_url().unwrap())
}

/// Text of the element `selector` of the page.
async fn text_of(browser: &Session<'_>, selector: &str) -> String {
    let element = browser
        .find(selector)
        .await
        .unwrap_or_else(|e| panic!("{selector}: {e}"));
    browser.text(&element).await.unwrap()
}

/// The page shows what an approver judges (per-resource cost, replacements and deletions, the
/// NIST controls checked, the drift the change overwrites, who approved so far), stays readable
/// on a phone, and shows injected markup as text that the Content-Security-Policy would stop
/// anyway. The emulator reports no replacements and no drift for a new stack, so the approval's
/// record is stored again with those as the approval step writes them.
#[tokio::test(flavor = "multi_thread")]
async fn page_shows_what_an_approver_judges_and_injected_markup_stays_text() {
    let backend = Backend::connect().await;
    let (started, message) = backend.waiting_vpc(Env::Dev, "pagec").await;
    let approval = backend.approval(&message.approval_id).await;
    let (_, now_epoch) = now();
    let drift = [
        "DRIFT: this change set overwrites manual changes to PublicSubnetA (drift scan dev-drift-20260115T060000-1a2b, 2026-01-15T06:00:12Z)",
        "PublicSubnetA NOT_EQUAL MapPublicIpOnLaunch: expected false, actual true [breaks SC-7]",
    ];
    let link = stored_copy(&backend, &started, &approval, |copy, _| {
        copy.replacements = vec!["PublicSubnetA".into()];
        copy.deletions = vec!["NatGatewayB".into(), "NatAddressB".into()];
        copy.notes = drift.iter().map(|l| l.to_string()).collect();
        copy.required_approvers = 2;
        copy.approved_by =
            vec!["arn:aws:sts::123456789012:assumed-role/infra-agent-approver/ada".into()];
        copy.expires_epoch = now_epoch + 600;
    })
    .await;

    let driver = chromedriver().await;
    let browser = driver.session(SessionOptions::default()).await.unwrap();
    browser.goto(&link).await.unwrap();
    assert_eq!(browser.title().await.unwrap(), "Approve deployment?");
    assert_eq!(
        text_of(&browser, "#notes").await,
        drift[0],
        "the drift warning leads"
    );
    assert!(browser.body_text().await.unwrap().contains(drift[1]));
    assert_eq!(text_of(&browser, "#replacements").await, "PublicSubnetA");
    assert_eq!(
        text_of(&browser, "#deletions").await,
        "NatGatewayB\nNatAddressB"
    );
    assert_eq!(
        text_of(&browser, "#approvers").await,
        "Approvals: 1 of 2 needed (distinct approvers); approved so far by arn:aws:sts::123456789012:assumed-role/infra-agent-approver/ada."
    );
    let cost_lines = text_of(&browser, "#cost-lines").await;
    for resource in [
        "NatGatewayA AWS::EC2::NatGateway",
        "NatAddressA AWS::EC2::EIP",
    ] {
        assert!(cost_lines.contains(resource), "{resource}: {cost_lines}");
    }
    let controls = text_of(&browser, "#controls").await;
    for control in ["SC-7 not applicable", "CM-8 passed"] {
        assert!(controls.contains(control), "{control}: {controls}");
    }
    let parameters = browser.body_text().await.unwrap();
    assert!(parameters.contains("VpcCidr"), "{parameters}");

    let shot = full_page_screenshot(&browser, 1000, "approval-page.png").await;
    println!("screenshot: {}", shot.display());

    // A phone: nothing wider than the screen, no text too small to read.
    browser.set_window_size(PHONE.0, PHONE.1).await.unwrap();
    let layout = browser
        .execute(
            "const texts = [...document.querySelectorAll('body *')]
                 .filter(e => e.childNodes.length && [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()));
             return {
                 inner: window.innerWidth,
                 scroll: document.documentElement.scrollWidth,
                 smallest: Math.min(...texts.map(e => parseFloat(getComputedStyle(e).fontSize))),
                 texts: texts.length,
             };",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(layout["inner"], PHONE.0, "{layout}");
    assert!(
        layout["scroll"].as_u64() <= layout["inner"].as_u64(),
        "no horizontal scrolling: {layout}"
    );
    assert!(layout["texts"].as_u64() > Some(20), "{layout}");
    assert!(
        layout["smallest"].as_f64() >= Some(MIN_READABLE_FONT_PX),
        "readable text: {layout}"
    );
    full_page_screenshot(&browser, PHONE.0, "approval-page-phone.png").await;

    // Markup in every field an approver or a template controls stays text.
    let link = stored_copy(&backend, &started, &approval, |copy, parameters| {
        copy.notes = vec![format!("DRIFT: {INJECTED}"), INJECTED.into()];
        copy.replacements = vec![INJECTED.into()];
        copy.deletions = vec![INJECTED.into()];
        copy.required_approvers = 2;
        copy.approved_by = vec![format!("{INJECTED}Eve")];
        copy.requested_by = INJECTED.into();
        copy.expires_epoch = now_epoch + 600;
        parameters.insert("Owner".into(), format!("{INJECTED}platform"));
    })
    .await;

    browser.set_window_size(1000, 900).await.unwrap();
    browser.goto(&link).await.unwrap();
    let text = browser.body_text().await.unwrap();
    assert!(text.contains(&format!("DRIFT: {INJECTED}")), "{text}");
    assert!(text.contains(&format!("{INJECTED}platform")), "{text}");
    assert!(
        text.contains(&format!("approved so far by {INJECTED}Eve")),
        "{text}"
    );
    assert!(text.contains(&format!("Requested by {INJECTED}")), "{text}");
    assert!(text.matches(INJECTED).count() >= 7, "{text}");
    assert_no_script_ran(&browser).await;

    // Had markup slipped through, the Content-Security-Policy would block its inline script.
    let blocked: Value = browser
        .execute(
            "return new Promise(done => {
                 const violations = [];
                 document.addEventListener('securitypolicyviolation', e => violations.push(e.effectiveDirective));
                 const script = document.createElement('script');
                 script.textContent = 'window.inlineRan = true;';
                 document.body.appendChild(script);
                 setTimeout(() => done({ran: window.inlineRan === true, violations}), 300);
             });",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(blocked["ran"], false, "{blocked}");
    assert!(
        blocked["violations"]
            .as_array()
            .is_some_and(|v| v.iter().any(|d| d == "script-src-elem")),
        "{blocked}"
    );
    browser.quit().await.unwrap();

    // Still nothing decided; the real deployment is rejected to end it.
    still_waiting(&backend, &started, &message.approval_id).await;
    let rejected = inbox::post_form(
        &message.link,
        &[("decision", "reject"), ("approver", "Ada")],
    )
    .await
    .unwrap();
    assert_eq!(rejected.status, 200, "{}", rejected.body);
    backend.wait_for_end(&started).await;
}
