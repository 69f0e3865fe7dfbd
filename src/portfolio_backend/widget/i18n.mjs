/*
 * The widget's own words in the visitor's language: one catalog per language, the choice of
 * language (the owner's data-lang, else the browser's languages, else English), its direction,
 * and the owner's overrides (data-strings).
 *
 * Pure: no DOM. A catalog entry is a string with {name} placeholders, or, for a count, an object
 * by plural category (Intl.PluralRules: zero, one, two, few, many, other) where an exact number
 * ("0") may come first. A key missing from a catalog falls back to English.
 *
 * Tool chips: "tool.<name>" entries translate the labels the service sends (GET /widget/config,
 * written in English); English has none, so the service's own labels show there.
 */

const en = {
  title: "Chat",
  greeting: "Hi! How can I help you?",
  openChat: "Open chat: {title}",
  closeChatNamed: "Close chat: {title}",
  newConversation: "New conversation",
  closeChat: "Close chat",
  conversation: "Conversation",
  yourMessage: "Your message",
  placeholder: "Type your message…",
  inputHint: "Enter sends, Shift+Enter adds a new line.",
  send: "Send message",
  sendShort: "Send",
  stop: "Stop generating",
  stopShort: "Stop",
  you: "You",
  speaker: "{name}: ",
  sources: "Sources",
  source: "Source",
  stopped: "Stopped.",
  toolUsed: "Used {tool}",
  messagesLeft: { one: "{count} message left", other: "{count} messages left" },
  messagesLeftOf: "{count} of {limit} messages left",
  sessionExpired: "Your earlier conversation expired, so this starts a new one.",
  reconnecting: "Connection lost. Reconnecting…",
  limitUntil: "You've reached the message limit for now. You can send more messages after {time}.",
  limitLater: "You've reached the message limit for now. Please try again later.",
  serverError: "Something went wrong on the server (HTTP {status}). Please try again.",
  unreachable: "Can't reach the chat service. Check your connection and try again.",
  answerFailed: "{reason} Please try again.",
  answerFailedPlain: "The answer failed. Please try again.",
  gone: "The rest of this answer is no longer available. Please ask again.",
  lost: "The connection was lost before the answer finished. Please try again.",
  cutOff: "The answer was cut off. Please try again.",
  // one line at the panel's 380 px in every language (tested): the policy behind the link says the rest
  privacyNotice: "Answers by AI; chats are kept for a while.",
  privacyLink: "Privacy",
  rateAnswer: "Rate this answer",
  goodAnswer: "Good answer",
  badAnswer: "Bad answer",
  addComment: "Add a comment",
  commentLabel: "Your comment on this answer (optional)",
  commentPlaceholder: "What was wrong, or what would have helped?",
  sendComment: "Send comment",
  feedbackThanks: "Thanks for your feedback.",
  commentThanks: "Thanks, your comment was sent.",
  feedbackFailed: "Your rating could not be sent.",
  citation: "Source {number}: {name}",
  downloadConversation: "Download this conversation",
  deleteConversation: "Delete this conversation",
  deleteConfirm: "Delete this conversation and everything kept about it? This cannot be undone.",
  conversationDeleted: "This conversation was deleted.",
  actionFailed: "That did not work. Please try again.",
};

const de = {
  title: "Chat",
  greeting: "Hallo! Wie kann ich Ihnen helfen?",
  openChat: "Chat öffnen: {title}",
  closeChatNamed: "Chat schließen: {title}",
  newConversation: "Neues Gespräch",
  closeChat: "Chat schließen",
  conversation: "Gespräch",
  yourMessage: "Ihre Nachricht",
  placeholder: "Nachricht eingeben…",
  inputHint: "Die Eingabetaste sendet, Umschalt+Eingabetaste fügt eine neue Zeile ein.",
  send: "Nachricht senden",
  sendShort: "Senden",
  stop: "Antwort anhalten",
  stopShort: "Anhalten",
  you: "Sie",
  speaker: "{name}: ",
  sources: "Quellen",
  source: "Quelle",
  stopped: "Angehalten.",
  toolUsed: "{tool} verwendet",
  messagesLeft: { one: "Noch {count} Nachricht übrig", other: "Noch {count} Nachrichten übrig" },
  messagesLeftOf: "Noch {count} von {limit} Nachrichten übrig",
  sessionExpired: "Ihr früheres Gespräch ist abgelaufen, deshalb beginnt hier ein neues.",
  reconnecting: "Verbindung unterbrochen. Neue Verbindung wird aufgebaut…",
  limitUntil: "Sie haben das Nachrichtenlimit vorerst erreicht. Ab {time} können Sie wieder Nachrichten senden.",
  limitLater: "Sie haben das Nachrichtenlimit vorerst erreicht. Bitte versuchen Sie es später noch einmal.",
  serverError: "Auf dem Server ist ein Fehler aufgetreten (HTTP {status}). Bitte versuchen Sie es noch einmal.",
  unreachable: "Der Chat-Dienst ist nicht erreichbar. Prüfen Sie Ihre Verbindung und versuchen Sie es noch einmal.",
  answerFailed: "{reason} Bitte versuchen Sie es noch einmal.",
  answerFailedPlain: "Die Antwort ist fehlgeschlagen. Bitte versuchen Sie es noch einmal.",
  gone: "Der Rest dieser Antwort ist nicht mehr verfügbar. Bitte fragen Sie noch einmal.",
  lost: "Die Verbindung brach ab, bevor die Antwort fertig war. Bitte versuchen Sie es noch einmal.",
  cutOff: "Die Antwort wurde abgeschnitten. Bitte versuchen Sie es noch einmal.",
  privacyNotice: "KI antwortet; Chats befristet gespeichert.",
  privacyLink: "Datenschutz",
  downloadConversation: "Dieses Gespräch herunterladen",
  deleteConversation: "Dieses Gespräch löschen",
  deleteConfirm: "Dieses Gespräch und alles, was dazu gespeichert ist, löschen? Das lässt sich nicht rückgängig machen.",
  conversationDeleted: "Dieses Gespräch wurde gelöscht.",
  actionFailed: "Das hat nicht geklappt. Bitte versuchen Sie es noch einmal.",
  "tool.calculate": "Berechnet",
  "tool.get_current_time": "Uhrzeit nachgesehen",
  "tool.search_knowledge": "Seiten des Inhabers durchsucht",
  "tool.record_user_details": "Ihre Angaben an den Inhaber weitergegeben",
  "tool.record_unknown_question": "Frage für den Inhaber notiert",
  "tool.create_reminder": "Erinnerung angelegt",
  "tool.get_session_info": "Dieses Gespräch angesehen",
  "tool.get_weather": "Wetter nachgesehen",
  "tool.web_search": "Im Web gesucht",
  rateAnswer: "Diese Antwort bewerten",
  goodAnswer: "Gute Antwort",
  badAnswer: "Schlechte Antwort",
  addComment: "Kommentar hinzufügen",
  commentLabel: "Ihr Kommentar zu dieser Antwort (optional)",
  commentPlaceholder: "Was war falsch, oder was hätte geholfen?",
  sendComment: "Kommentar senden",
  feedbackThanks: "Danke für Ihr Feedback.",
  commentThanks: "Danke, Ihr Kommentar wurde gesendet.",
  feedbackFailed: "Ihre Bewertung konnte nicht gesendet werden.",
  citation: "Quelle {number}: {name}",
};

const fr = {
  title: "Chat",
  greeting: "Bonjour\u00a0! Comment puis-je vous aider\u00a0?",
  openChat: "Ouvrir le chat\u00a0: {title}",
  closeChatNamed: "Fermer le chat\u00a0: {title}",
  newConversation: "Nouvelle conversation",
  closeChat: "Fermer le chat",
  conversation: "Conversation",
  yourMessage: "Votre message",
  placeholder: "Écrivez votre message…",
  inputHint: "Entrée envoie, Maj+Entrée ajoute une ligne.",
  send: "Envoyer le message",
  sendShort: "Envoyer",
  stop: "Arrêter la réponse",
  stopShort: "Arrêter",
  you: "Vous",
  speaker: "{name}\u00a0: ",
  sources: "Sources",
  source: "Source",
  stopped: "Arrêtée.",
  toolUsed: "A utilisé {tool}",
  messagesLeft: { one: "{count} message restant", other: "{count} messages restants" },
  messagesLeftOf: { one: "{count} message restant sur {limit}", other: "{count} messages restants sur {limit}" },
  sessionExpired: "Votre conversation précédente a expiré, celle-ci en commence donc une nouvelle.",
  reconnecting: "Connexion perdue. Reconnexion…",
  limitUntil: "Vous avez atteint la limite de messages pour le moment. Vous pourrez en envoyer d'autres après {time}.",
  limitLater: "Vous avez atteint la limite de messages pour le moment. Veuillez réessayer plus tard.",
  serverError: "Une erreur s'est produite sur le serveur (HTTP {status}). Veuillez réessayer.",
  unreachable: "Impossible de joindre le service de chat. Vérifiez votre connexion et réessayez.",
  answerFailed: "{reason} Veuillez réessayer.",
  answerFailedPlain: "La réponse a échoué. Veuillez réessayer.",
  gone: "La suite de cette réponse n'est plus disponible. Veuillez reposer votre question.",
  lost: "La connexion a été perdue avant la fin de la réponse. Veuillez réessayer.",
  cutOff: "La réponse a été interrompue. Veuillez réessayer.",
  privacyNotice: "Une IA répond\u00a0; échanges gardés un temps.",
  privacyLink: "Vie privée",
  downloadConversation: "Télécharger cette conversation",
  deleteConversation: "Supprimer cette conversation",
  deleteConfirm: "Supprimer cette conversation et tout ce qui en est conservé ? C’est définitif.",
  conversationDeleted: "Cette conversation a été supprimée.",
  actionFailed: "Cela n’a pas fonctionné. Veuillez réessayer.",
  "tool.calculate": "A calculé",
  "tool.get_current_time": "A regardé l'heure",
  "tool.search_knowledge": "A consulté les pages du propriétaire",
  "tool.record_user_details": "A transmis vos coordonnées au propriétaire",
  "tool.record_unknown_question": "A noté la question pour le propriétaire",
  "tool.create_reminder": "A créé un rappel",
  "tool.get_session_info": "A consulté cette conversation",
  "tool.get_weather": "A consulté la météo",
  "tool.web_search": "A cherché sur le web",
  rateAnswer: "Évaluer cette réponse",
  goodAnswer: "Bonne réponse",
  badAnswer: "Mauvaise réponse",
  addComment: "Ajouter un commentaire",
  commentLabel: "Votre commentaire sur cette réponse (facultatif)",
  commentPlaceholder: "Qu’est-ce qui n’allait pas, ou qu’est-ce qui aurait aidé ?",
  sendComment: "Envoyer le commentaire",
  feedbackThanks: "Merci pour votre avis.",
  commentThanks: "Merci, votre commentaire a été envoyé.",
  feedbackFailed: "Votre évaluation n’a pas pu être envoyée.",
  citation: "Source {number} : {name}",
};

const es = {
  title: "Chat",
  greeting: "¡Hola! ¿En qué puedo ayudarte?",
  openChat: "Abrir chat: {title}",
  closeChatNamed: "Cerrar chat: {title}",
  newConversation: "Nueva conversación",
  closeChat: "Cerrar chat",
  conversation: "Conversación",
  yourMessage: "Tu mensaje",
  placeholder: "Escribe tu mensaje…",
  inputHint: "Intro envía, Mayús+Intro añade una línea nueva.",
  send: "Enviar mensaje",
  sendShort: "Enviar",
  stop: "Detener la respuesta",
  stopShort: "Detener",
  you: "Tú",
  speaker: "{name}: ",
  sources: "Fuentes",
  source: "Fuente",
  stopped: "Detenida.",
  toolUsed: "Usó {tool}",
  messagesLeft: { one: "Te queda {count} mensaje", other: "Te quedan {count} mensajes" },
  messagesLeftOf: { one: "Te queda {count} de {limit} mensajes", other: "Te quedan {count} de {limit} mensajes" },
  sessionExpired: "Tu conversación anterior caducó, así que empieza una nueva.",
  reconnecting: "Se perdió la conexión. Reconectando…",
  limitUntil: "Has alcanzado el límite de mensajes por ahora. Podrás enviar más a partir de {time}.",
  limitLater: "Has alcanzado el límite de mensajes por ahora. Inténtalo de nuevo más tarde.",
  serverError: "Algo salió mal en el servidor (HTTP {status}). Inténtalo de nuevo.",
  unreachable: "No se puede conectar con el servicio de chat. Comprueba tu conexión e inténtalo de nuevo.",
  answerFailed: "{reason} Inténtalo de nuevo.",
  answerFailedPlain: "La respuesta falló. Inténtalo de nuevo.",
  gone: "El resto de esta respuesta ya no está disponible. Vuelve a preguntar.",
  lost: "Se perdió la conexión antes de que terminara la respuesta. Inténtalo de nuevo.",
  cutOff: "La respuesta se cortó. Inténtalo de nuevo.",
  privacyNotice: "IA responde; chats guardados un tiempo.",
  privacyLink: "Privacidad",
  downloadConversation: "Descargar esta conversación",
  deleteConversation: "Eliminar esta conversación",
  deleteConfirm: "¿Eliminar esta conversación y todo lo que se guarda de ella? No se puede deshacer.",
  conversationDeleted: "Esta conversación se ha eliminado.",
  actionFailed: "No ha funcionado. Inténtalo de nuevo.",
  "tool.calculate": "Calculó",
  "tool.get_current_time": "Consultó la hora",
  "tool.search_knowledge": "Buscó en las páginas del propietario",
  "tool.record_user_details": "Pasó tus datos al propietario",
  "tool.record_unknown_question": "Anotó la pregunta para el propietario",
  "tool.create_reminder": "Creó un recordatorio",
  "tool.get_session_info": "Consultó esta conversación",
  "tool.get_weather": "Consultó el tiempo",
  "tool.web_search": "Buscó en la web",
  rateAnswer: "Valorar esta respuesta",
  goodAnswer: "Buena respuesta",
  badAnswer: "Mala respuesta",
  addComment: "Añadir un comentario",
  commentLabel: "Tu comentario sobre esta respuesta (opcional)",
  commentPlaceholder: "¿Qué estaba mal o qué te habría ayudado?",
  sendComment: "Enviar comentario",
  feedbackThanks: "Gracias por tu opinión.",
  commentThanks: "Gracias, tu comentario se ha enviado.",
  feedbackFailed: "No se pudo enviar tu valoración.",
  citation: "Fuente {number}: {name}",
};

const pt = {
  title: "Chat",
  greeting: "Olá! Como posso ajudar?",
  openChat: "Abrir chat: {title}",
  closeChatNamed: "Fechar chat: {title}",
  newConversation: "Nova conversa",
  closeChat: "Fechar chat",
  conversation: "Conversa",
  yourMessage: "Sua mensagem",
  placeholder: "Digite sua mensagem…",
  inputHint: "Enter envia, Shift+Enter adiciona uma nova linha.",
  send: "Enviar mensagem",
  sendShort: "Enviar",
  stop: "Parar a resposta",
  stopShort: "Parar",
  you: "Você",
  speaker: "{name}: ",
  sources: "Fontes",
  source: "Fonte",
  stopped: "Interrompida.",
  toolUsed: "Usou {tool}",
  // CLDR puts 0 in Portuguese's "one": "Resta 0 mensagem" would be wrong
  messagesLeft: { 0: "Nenhuma mensagem restante", one: "Resta {count} mensagem", other: "Restam {count} mensagens" },
  messagesLeftOf: { 0: "Restam 0 de {limit} mensagens", one: "Resta {count} de {limit} mensagens", other: "Restam {count} de {limit} mensagens" },
  sessionExpired: "Sua conversa anterior expirou, então esta começa uma nova.",
  reconnecting: "Conexão perdida. Reconectando…",
  limitUntil: "Você atingiu o limite de mensagens por enquanto. Poderá enviar mais mensagens depois de {time}.",
  limitLater: "Você atingiu o limite de mensagens por enquanto. Tente novamente mais tarde.",
  serverError: "Algo deu errado no servidor (HTTP {status}). Tente novamente.",
  unreachable: "Não foi possível acessar o serviço de chat. Verifique sua conexão e tente novamente.",
  answerFailed: "{reason} Tente novamente.",
  answerFailedPlain: "A resposta falhou. Tente novamente.",
  gone: "O restante desta resposta não está mais disponível. Pergunte novamente.",
  lost: "A conexão caiu antes de a resposta terminar. Tente novamente.",
  cutOff: "A resposta foi interrompida. Tente novamente.",
  privacyNotice: "IA responde; chats salvos por um tempo.",
  privacyLink: "Privacidade",
  downloadConversation: "Baixar esta conversa",
  deleteConversation: "Excluir esta conversa",
  deleteConfirm: "Excluir esta conversa e tudo o que foi guardado dela? Isso não pode ser desfeito.",
  conversationDeleted: "Esta conversa foi excluída.",
  actionFailed: "Não deu certo. Tente novamente.",
  "tool.calculate": "Calculou",
  "tool.get_current_time": "Consultou a hora",
  "tool.search_knowledge": "Pesquisou as páginas do proprietário",
  "tool.record_user_details": "Passou seus dados ao proprietário",
  "tool.record_unknown_question": "Anotou a pergunta para o proprietário",
  "tool.create_reminder": "Criou um lembrete",
  "tool.get_session_info": "Consultou esta conversa",
  "tool.get_weather": "Consultou o tempo",
  "tool.web_search": "Pesquisou na web",
  rateAnswer: "Avaliar esta resposta",
  goodAnswer: "Boa resposta",
  badAnswer: "Resposta ruim",
  addComment: "Adicionar um comentário",
  commentLabel: "Seu comentário sobre esta resposta (opcional)",
  commentPlaceholder: "O que estava errado, ou o que teria ajudado?",
  sendComment: "Enviar comentário",
  feedbackThanks: "Obrigado pelo seu feedback.",
  commentThanks: "Obrigado, seu comentário foi enviado.",
  feedbackFailed: "Não foi possível enviar sua avaliação.",
  citation: "Fonte {number}: {name}",
};

const ar = {
  title: "دردشة",
  greeting: "مرحبًا! كيف يمكنني مساعدتك؟",
  openChat: "فتح الدردشة: {title}",
  closeChatNamed: "إغلاق الدردشة: {title}",
  newConversation: "محادثة جديدة",
  closeChat: "إغلاق الدردشة",
  conversation: "المحادثة",
  yourMessage: "رسالتك",
  placeholder: "اكتب رسالتك…",
  inputHint: "يرسل مفتاح Enter الرسالة، ويضيف Shift+Enter سطرًا جديدًا.",
  send: "إرسال الرسالة",
  sendShort: "إرسال",
  stop: "إيقاف الإجابة",
  stopShort: "إيقاف",
  you: "أنت",
  speaker: "{name}: ",
  sources: "المصادر",
  source: "مصدر",
  stopped: "تم الإيقاف.",
  toolUsed: "استخدم {tool}",
  // "remaining messages: N" reads right for every count, where "N messages" needs six plural forms
  messagesLeft: "الرسائل المتبقية: {count}",
  messagesLeftOf: "الرسائل المتبقية: {count} من {limit}",
  sessionExpired: "انتهت صلاحية محادثتك السابقة، لذا تبدأ هنا محادثة جديدة.",
  reconnecting: "انقطع الاتصال. جارٍ إعادة الاتصال…",
  limitUntil: "لقد بلغت الحد الأقصى للرسائل حاليًا. يمكنك إرسال المزيد من الرسائل بعد {time}.",
  limitLater: "لقد بلغت الحد الأقصى للرسائل حاليًا. يُرجى المحاولة لاحقًا.",
  serverError: "حدث خطأ في الخادم (HTTP {status}). يُرجى المحاولة مرة أخرى.",
  unreachable: "تعذّر الوصول إلى خدمة الدردشة. تحقّق من اتصالك وحاول مرة أخرى.",
  answerFailed: "{reason} يُرجى المحاولة مرة أخرى.",
  answerFailedPlain: "تعذّر إكمال الإجابة. يُرجى المحاولة مرة أخرى.",
  gone: "بقية هذه الإجابة لم تعد متاحة. يُرجى طرح السؤال مرة أخرى.",
  lost: "انقطع الاتصال قبل اكتمال الإجابة. يُرجى المحاولة مرة أخرى.",
  cutOff: "انقطعت الإجابة قبل اكتمالها. يُرجى المحاولة مرة أخرى.",
  privacyNotice: "يجيب ذكاء اصطناعي؛ تُحفظ المحادثات لمدة محدودة.",
  privacyLink: "الخصوصية",
  downloadConversation: "تنزيل هذه المحادثة",
  deleteConversation: "حذف هذه المحادثة",
  deleteConfirm: "هل تريد حذف هذه المحادثة وكل ما حُفظ عنها؟ لا يمكن التراجع عن ذلك.",
  conversationDeleted: "تم حذف هذه المحادثة.",
  actionFailed: "لم ينجح ذلك. يُرجى المحاولة مرة أخرى.",
  "tool.calculate": "أجرى عملية حسابية",
  "tool.get_current_time": "تحقّق من الوقت",
  "tool.search_knowledge": "بحث في صفحات المالك",
  "tool.record_user_details": "أرسل بياناتك إلى المالك",
  "tool.record_unknown_question": "دوّن السؤال للمالك",
  "tool.create_reminder": "أنشأ تذكيرًا",
  "tool.get_session_info": "اطّلع على هذه المحادثة",
  "tool.get_weather": "تحقّق من الطقس",
  "tool.web_search": "بحث في الويب",
  rateAnswer: "قيّم هذه الإجابة",
  goodAnswer: "إجابة جيدة",
  badAnswer: "إجابة سيئة",
  addComment: "أضف تعليقًا",
  commentLabel: "تعليقك على هذه الإجابة (اختياري)",
  commentPlaceholder: "ما الخطأ، أو ما الذي كان سيساعد؟",
  sendComment: "أرسل التعليق",
  feedbackThanks: "شكرًا على ملاحظاتك.",
  commentThanks: "شكرًا، تم إرسال تعليقك.",
  feedbackFailed: "تعذّر إرسال تقييمك.",
  citation: "المصدر {number}: {name}",
};

export const CATALOGS = Object.freeze({ en, de, fr, es, pt, ar });

// Languages written right to left (their primary subtag): the widget's root gets dir="rtl".
const RIGHT_TO_LEFT = new Set(["ar", "arc", "ckb", "dv", "fa", "he", "ps", "sd", "ug", "ur", "yi"]);

/** A BCP 47 tag in its canonical form ("pt-br" -> "pt-BR"), or null when it is none. */
export function canonicalTag(tag) {
  if (typeof tag !== "string" || !tag.trim()) return null;
  try {
    return Intl.getCanonicalLocales(tag.trim())[0] || null;
  } catch {
    return null; // "english", "en_US": not a tag
  }
}

function primary(tag) {
  return tag.split("-")[0].toLowerCase();
}

/**
 * The widget's language: the owner's (data-lang), as given even without a catalog (the owner may
 * supply every string, and the rest falls back to English); else the first of the visitor's
 * browser languages that has a catalog; else English.
 */
export function chooseLanguage(ownerTag, visitorTags) {
  const owner = canonicalTag(ownerTag);
  if (owner) return owner;
  for (const tag of visitorTags || []) {
    const canonical = canonicalTag(tag);
    if (canonical && Object.hasOwn(CATALOGS, primary(canonical))) return canonical;
  }
  return "en";
}

/** "rtl" for a language written right to left, else "ltr". */
export function directionOf(tag) {
  return RIGHT_TO_LEFT.has(primary(tag)) ? "rtl" : "ltr";
}

/**
 * The owner's data-strings, parsed: a JSON object whose catalog keys apply in every language, and
 * whose language tags ({"de": {...}}) hold strings for that language only. Returns the strings for
 * `tag` (its primary language, then the tag itself) and what was wrong with the input, if anything.
 */
export function ownerStrings(json, tag) {
  if (!json) return { strings: {}, problem: null };
  let parsed;
  try {
    parsed = JSON.parse(json);
  } catch {
    return { strings: {}, problem: "data-strings is not JSON: it is ignored" };
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
    return { strings: {}, problem: "data-strings must be a JSON object of strings: it is ignored" };
  }
  const usable = (entries) =>
    Object.fromEntries(Object.entries(entries).filter(([, value]) => typeof value === "string" || isPlural(value)));
  const everywhere = usable(Object.fromEntries(Object.entries(parsed).filter(([key]) => Object.hasOwn(en, key) || key.startsWith("tool."))));
  const forLanguage = (key) => {
    const match = Object.keys(parsed).find((name) => !Object.hasOwn(en, name) && canonicalTag(name) === key);
    const value = match === undefined ? null : parsed[match];
    return value && typeof value === "object" && !isPlural(value) ? usable(value) : {};
  };
  return { strings: { ...everywhere, ...forLanguage(primary(tag)), ...forLanguage(tag) }, problem: null };
}

function isPlural(value) {
  return Boolean(value) && typeof value === "object" && typeof value.other === "string";
}

/**
 * t(key, params): the text for `key` in `tag`'s language with {name} placeholders filled (numbers
 * formatted for the language; `count` also picks the plural form). t.lang and t.dir tell the
 * language and its direction; t.has(key) whether any catalog or the owner has the key.
 */
export function translator(tag, overrides = {}) {
  const lang = canonicalTag(tag) || "en";
  const catalog = { ...en, ...(CATALOGS[primary(lang)] || {}), ...overrides };
  const plurals = new Intl.PluralRules(lang);
  const numbers = new Intl.NumberFormat(lang);
  const fill = (value) => (typeof value === "number" ? numbers.format(value) : String(value));

  function t(key, params = {}) {
    let text = Object.hasOwn(catalog, key) ? catalog[key] : undefined;
    if (text && typeof text === "object") {
      const count = Number(params.count);
      text = text[String(count)] ?? text[plurals.select(count)] ?? text.other;
    }
    if (typeof text !== "string") return key;
    return text.replace(/\{(\w+)\}/g, (whole, name) => (Object.hasOwn(params, name) ? fill(params[name]) : whole));
  }
  t.lang = lang;
  t.dir = directionOf(lang);
  t.has = (key) => Object.hasOwn(catalog, key);
  return t;
}

/** English, for messages made where no visitor's language is known (errors carry their key too). */
export const english = translator("en");
